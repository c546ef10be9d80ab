/**
 * The contract between the constructs, the stack's one provider (src/private/provider.ts) and the
 * handlers' deadline (lambda/handlers/deadline.ts): how long a custom resource of this library may
 * take, and how each resource's own limit reaches its handler.
 */

/**
 * CloudFormation waits at most one hour for a custom resource: `ServiceTimeout` is 1 to 3600
 * seconds, 3600 by default (AWS CloudFormation template reference, AWS::CloudFormation::CustomResource,
 * ServiceTimeout). The Provider framework cannot extend that; its own `totalTimeout` is documented
 * with the same one-hour maximum (aws-cdk-lib custom-resources, ProviderProps.totalTimeout).
 */
export const MAX_TIMEOUT_SECONDS = 3600;

/** The shortest timeout a resource may ask for. */
export const MIN_TIMEOUT_SECONDS = 60;

/** How often the provider's waiter calls isComplete (its `queryInterval`). */
export const CHECK_INTERVAL_SECONDS = 60;

/**
 * The latest a handler lets a resource run, from its onEvent: two checks before CloudFormation's
 * hour is up, so that the failure the handler reports (naming what was not done) reaches
 * CloudFormation before CloudFormation gives up on its own, with no more than "timed out" to say.
 * The hour counts from CloudFormation's request; onEvent runs seconds later, and the first check
 * after a deadline comes up to one interval after it.
 */
export const LAST_DEADLINE_SECONDS = MAX_TIMEOUT_SECONDS - 2 * CHECK_INTERVAL_SECONDS;

/**
 * What the dispatcher's onEvent adds to its answer. The Provider framework passes every key onEvent
 * returns on to each isComplete call (aws-cdk-lib 2.258.0,
 * custom-resources/lib/provider-framework/runtime/framework.js: the waiter's input is
 * `{ ...cfnRequest, ...onEventResult }`, and each isComplete is invoked with that event).
 */
export interface DeadlineStamp {
  /** When the resource fails if its work is not done (ISO 8601). */
  readonly At: string;
  /** The resource's own timeout, in seconds (its `TimeoutSeconds` property, or the maximum). */
  readonly TimeoutSeconds: number;
}

/** The resource property a construct sets to give its resource a timeout shorter than the maximum. */
export interface TimeoutResourceProperties {
  /**
   * Seconds the resource's work may take, from its onEvent: a whole number of minutes from 1 to 60.
   * CloudFormation passes it as a string.
   *
   * @default the maximum, one hour
   */
  readonly TimeoutSeconds?: number | string;
}
