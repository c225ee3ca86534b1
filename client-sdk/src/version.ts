/** The SDK's name and version as sent in `x-switchyard-sdk`. Keep in step with client-sdk/package.json (a test checks it). */
export const SDK_NAME = 'switchyard-node';

/** The version of this SDK (the `version` of client-sdk/package.json). */
export const SDK_VERSION = '0.1.0';
