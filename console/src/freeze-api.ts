import { graphql, idempotencyKey } from './api.js';

export interface FreezePeriod {
  readonly window: string;
  readonly timeZone: string;
  readonly from: string | null;
  readonly until: string;
}

export interface FreezeWindow {
  readonly key: string;
  readonly description: string;
  readonly timeZone: string;
  readonly kind: 'ONE_OFF' | 'RECURRING';
  readonly from: string | null;
  readonly until: string | null;
  readonly recurrence: { readonly daysOfMonth: number[] | null; readonly weekdays: number[] | null; readonly at: string; readonly duration: string } | null;
  readonly tag: string | null;
  readonly version: number;
  readonly updatedAt: string;
  /** On now (the service's clock), until when. */
  readonly active: FreezePeriod | null;
  /** The next freeze to start. */
  readonly next: FreezePeriod | null;
}

const WINDOW_FIELDS = `key description timeZone kind from until recurrence { daysOfMonth weekdays at duration } tag version updatedAt
  active { window timeZone from until } next { window timeZone from until }`;

export async function listFreezeWindows(): Promise<FreezeWindow[]> {
  return (await graphql<{ freezeWindows: FreezeWindow[] }>(`query ConsoleFreezeWindows { freezeWindows { ${WINDOW_FIELDS} } }`)).freezeWindows;
}

export interface FreezeWindowInput {
  key: string;
  description: string;
  timeZone: string;
  tag: string | null;
  from: string | null;
  until: string | null;
  recurrence: { daysOfMonth: number[] | null; weekdays: number[] | null; at: string; duration: string } | null;
  reason: string;
}

/** Creates a window, or (expectedVersion given) replaces one as a whole. */
export async function saveFreezeWindow(input: FreezeWindowInput, expectedVersion: number | null): Promise<void> {
  const update = expectedVersion !== null;
  await graphql(
    `mutation ConsoleSaveFreezeWindow($key: String!, $description: String!, $timeZone: String!, $tag: String, $from: DateTime, $until: DateTime,
        $recurrence: FreezeRecurrenceInput, $reason: String, $idem: String${update ? ', $v: Int' : ''}) {
      ${update ? 'updateFreezeWindow' : 'createFreezeWindow'}(key: $key, description: $description, timeZone: $timeZone, tag: $tag, from: $from, until: $until,
        recurrence: $recurrence, reason: $reason, idempotencyKey: $idem${update ? ', expectedVersion: $v' : ''}) { key }
    }`,
    { ...input, reason: input.reason === '' ? null : input.reason, idem: idempotencyKey(), ...(update ? { v: expectedVersion } : {}) },
  );
}

export async function deleteFreezeWindow(key: string, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `
      mutation ConsoleDeleteFreezeWindow($key: String!, $reason: String, $v: Int, $idem: String) {
        deleteFreezeWindow(key: $key, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { key, reason, v: expectedVersion, idem: idempotencyKey() },
  );
}
