/** Tags group slices for listing and for rollbackAll(tag). */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,63}$/;
export const MAX_TAGS = 32;
