/**
 * `@switchyard/client-sdk/openfeature`: the Switchyard OpenFeature server provider.
 *
 * A separate entry point so that `@switchyard/client-sdk` itself never loads `@openfeature/*`:
 * `@openfeature/server-sdk` is an optional peer dependency, needed only by hosts that import this.
 *
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { SwitchyardProvider } from '@switchyard/client-sdk/openfeature';
 * await OpenFeature.setProviderAndWait(new SwitchyardProvider({ url, token, appName: 'payments-api' }));
 * const useNew = await OpenFeature.getClient().getBooleanValue('payments.provider.mpesa', false, { targetingKey: user.id });
 * ```
 *
 * @packageDocumentation
 */

export { SwitchyardProvider, SWITCHYARD_PROVIDER_NAME, OUTCOME_TRACKING_EVENT } from './provider.js';
export { openFeatureReason, type ReasonMapping, type SwitchyardVariant } from './reasons.js';
export { toSwitchyardContext } from './context.js';
