import { WorkflowStepInput } from './export-workflow-contract';

/**
 * A value the state machine reads at run time from its state or context, e.g.
 * `at('$.plan.snapshotName')` or `at('$$.Execution.StartTime')`. Rendered as `"<key>.$": "<path>"`.
 */
export class At {
  constructor(public readonly path: string) {
    if (!path.startsWith('$')) {
      throw new Error(`'${path}' is not a JSONPath; a state machine path starts with $ (state) or $$ (context)`);
    }
  }
}

/** A JSONPath read for a step payload value. */
export function at(path: string): At {
  return new At(path);
}

/**
 * A Lambda step's payload, checked at compile time against the step's input type `T`: exactly the
 * keys of `T` (a missing key or a misspelled one does not compile), each either a value of its
 * type or a JSONPath read (`at(...)`). The discriminating `step` is always literal.
 */
export type StepPayload<T> = { readonly [K in keyof T]: K extends 'step' ? T[K] : T[K] | At };

/** Any of the export workflow's Lambda step payloads (one per `step`). */
export type WorkflowStepPayload = StepPayload<WorkflowStepInput>;

/** The payload as Step Functions takes it: a JSONPath read under `<key>.$`. */
export function renderPayload(payload: WorkflowStepPayload | object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).map(([key, value]) => (value instanceof At ? [`${key}.$`, value.path] : [key, value])));
}
