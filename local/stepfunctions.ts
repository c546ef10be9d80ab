/**
 * Step Functions (Standard workflows), over AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Action>`,
 * signing name `states`): CreateStateMachine, DeleteStateMachine, DescribeStateMachine,
 * ListStateMachines, StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory and
 * StopExecution, with Step Functions' shapes and error names (API reference, per action).
 *
 * Executions run in the provider's process, asynchronously, on the ASL interpreter local/sfn.ts
 * uses (aws-local-stepfunctions, JSONPath definitions), with Wait states and Retry intervals on
 * the provider's clock as there. Task resources are bound to the provider:
 * - `arn:aws:states:::lambda:invoke`: `provider.lambda.invoke` of `Parameters.FunctionName` with
 *   `Parameters.Payload`; the result is `{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata,
 *   SdkResponseMetadata}` as Step Functions returns it (developer guide, "Invoke an AWS Lambda
 *   function with Step Functions"). A Lambda function ARN as the resource invokes it with the
 *   state's input and returns its payload only (the legacy form).
 *   A function error fails the task with the error's `errorType` and the error payload as the cause;
 *   a timeout or crash of the function is `Lambda.Unknown` (developer guide, "Handle Lambda service
 *   exceptions"); Lambda's own errors (no such function...) are `Lambda.<Name>Exception`.
 * - `arn:aws:states:::aws-sdk:<service>:<action>`: local/sfn.ts's `awsSdkTask` (ElastiCache, S3, Route 53).
 * - `arn:aws:states:::sns:publish`: the provider's SNS (`Publish`), errors `SNS.<Code>Exception`
 *   (the exact names are NOT CONFIRMED).
 *
 * GetExecutionHistory emits: ExecutionStarted; `<Type>StateEntered` and `<Type>StateExited` per
 * top-level state (TaskStateEntered, ChoiceStateEntered, WaitStateEntered, ...); per Task attempt
 * TaskScheduled, TaskStarted, then TaskSucceeded or TaskFailed (a retry: TaskFailed, then the next
 * attempt's TaskScheduled); ExecutionSucceeded / ExecutionFailed / ExecutionAborted. A Task whose
 * Resource is a function ARN (not `lambda:invoke`) gets Task* events with resourceType `lambda`
 * here, where Step Functions emits LambdaFunction* events; Map/Parallel inner states get none.
 *
 * Not emulated: Express workflows' semantics (accepted as a type, run as Standard), versions and
 * aliases, Map/Parallel runs' own events, activities, callbacks (`.waitForTaskToken`), `.sync`,
 * JSONata definitions, logging and tracing (accepted, no effect), the definition's TimeoutSeconds.
 */
import { randomUUID } from 'crypto';
import { awsSdkTask, clockContext, clockOverrides, onProviderClock, sdkErrorName, StateMachine, TaskError } from './asl';
import { LambdaError } from './lambda/functions';
import type { LocalProvider } from './provider';
import { LOCAL_ACCOUNT } from './sts';

/** A Step Functions error: the `__type` of the JSON 1.0 error body. */
export class StepFunctionsError extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/** Names of state machines and executions: 1 to 80 characters, none of whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` or control characters (API reference, CreateStateMachine `name`). */
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
/** Input and output: at most 256 KiB (API reference, StartExecution `input`). */
const MAX_PAYLOAD = 262_144;
/** ListStateMachines, ListExecutions and GetExecutionHistory: at most 1000 per page, 100 by default (NOT CONFIRMED for the default). */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

interface Machine {
  readonly arn: string;
  readonly name: string;
  readonly region: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: string;
  readonly creationDate: number;
  readonly loggingConfiguration?: unknown;
  readonly tracingConfiguration?: unknown;
}

interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

interface Execution {
  readonly arn: string;
  readonly name: string;
  readonly machine: Machine;
  readonly input: string;
  readonly startDate: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  readonly events: HistoryEvent[];
  abort?: () => void;
  /** Settles when the run has ended and its status is set. */
  done?: Promise<void>;
}

export interface CreateStateMachineOptions {
  readonly name: string;
  /** The ASL definition, as JSON text or an object. */
  readonly definition: string | object;
  readonly roleArn: string;
  /** @default 'STANDARD' */
  readonly type?: string;
  readonly loggingConfiguration?: unknown;
  readonly tracingConfiguration?: unknown;
}

function invalidArn(arn: unknown): StepFunctionsError {
  return new StepFunctionsError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

export class LocalStepFunctions {
  /** State machines by ARN (the ARN names the region). */
  private readonly machines = new Map<string, Machine>();
  /** Executions by ARN. */
  private readonly executions = new Map<string, Execution>();

  constructor(private readonly provider: LocalProvider) {}

  /** Creates a state machine (CreateStateMachine); the same name, definition and role again answers the same one. */
  public createStateMachine(region: string, o: CreateStateMachineOptions): Machine {
    if (typeof o.name !== 'string' || !NAME.test(o.name)) throw new StepFunctionsError('InvalidName', `Invalid Name: '${String(o.name)}'`);
    if (typeof o.roleArn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(o.roleArn)) throw invalidArn(o.roleArn);
    const type = o.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw new StepFunctionsError('ValidationException', `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`);
    }
    const definition = typeof o.definition === 'string' ? o.definition : JSON.stringify(o.definition);
    validateDefinition(definition);
    const arn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${o.name}`;
    const existing = this.machines.get(arn);
    if (existing) {
      // CreateStateMachine is idempotent for the same definition and role (API reference, CreateStateMachine).
      if (existing.definition === definition && existing.roleArn === o.roleArn && existing.type === type) return existing;
      throw new StepFunctionsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const machine: Machine = {
      arn,
      name: o.name,
      region,
      definition,
      roleArn: o.roleArn,
      type,
      creationDate: this.provider.clock.now(),
      loggingConfiguration: o.loggingConfiguration,
      tracingConfiguration: o.tracingConfiguration,
    };
    this.machines.set(arn, machine);
    return machine;
  }

  /** Deletes a state machine; its running executions are stopped (DeleteStateMachine; one that does not exist is fine). */
  public deleteStateMachine(arn: string): void {
    this.machines.delete(arn);
    for (const e of this.executions.values()) {
      if (e.machine.arn === arn && e.status === 'RUNNING') e.abort?.();
    }
  }

  /**
   * Starts an execution (StartExecution) and answers at once; the run goes on in the background.
   * `startDate` (provider-side callers: an EventBridge schedule that fell due during a jump of the
   * clock) dates it at that simulated time rather than now.
   */
  public startExecution(region: string, stateMachineArn: string, input = '{}', name?: string, startDate?: number): Execution {
    const machine = this.machine(region, stateMachineArn);
    if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) throw new StepFunctionsError('InvalidName', `Invalid Name: '${String(name)}'`);
    if (typeof input !== 'string' || Buffer.byteLength(input) > MAX_PAYLOAD) throw new StepFunctionsError('InvalidExecutionInput', 'Invalid execution input: at most 262144 bytes of JSON text');
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (e) {
      throw new StepFunctionsError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(e as Error).message}'`);
    }
    const executionName = name ?? randomUUID();
    const arn = `arn:aws:states:${region}:${LOCAL_ACCOUNT}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(arn);
    if (existing) {
      // Idempotent for the same name and input while it runs; else ExecutionAlreadyExists (API reference, StartExecution).
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new StepFunctionsError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const execution: Execution = {
      arn, name: executionName, machine, input, startDate: Math.min(startDate ?? Infinity, this.provider.clock.now()), status: 'RUNNING', events: [],
    };
    this.executions.set(arn, execution);
    // A fault of the run itself fails the execution, never the provider's process.
    execution.done = this.run(execution, parsed).catch((err) => {
      if (execution.status !== 'RUNNING') return;
      execution.status = 'FAILED';
      execution.stopDate = this.provider.clock.now();
      execution.error = 'States.Runtime';
      execution.cause = String((err as Error)?.message ?? err);
      this.statusChanged(execution);
    });
    return execution;
  }

  /** An execution by ARN (DescribeExecution). */
  public execution(arn: string): Execution {
    if (typeof arn !== 'string' || !/^arn:aws:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) throw invalidArn(arn);
    const e = this.executions.get(arn);
    if (!e) throw new StepFunctionsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return e;
  }

  /** Waits for an execution to end (provider-side; tests can poll DescribeExecution instead). */
  public async waitFor(arn: string): Promise<Execution> {
    const e = this.execution(arn);
    await e.done;
    return e;
  }

  /** Answers one JSON 1.0 request; the answer is computed before anything is written. */
  public handle(region: string, target: string | undefined, body: string): { status: number; body: string } {
    try {
      return { status: 200, body: JSON.stringify(this.dispatch(region, target, body)) };
    } catch (e) {
      if (!(e instanceof StepFunctionsError)) throw e;
      return { status: e.status, body: JSON.stringify({ __type: e.code, message: e.message }) };
    }
  }

  private dispatch(region: string, target: string | undefined, body: string): unknown {
    const action = /^AWSStepFunctions\.(\w+)$/.exec(target ?? '')?.[1];
    let p: Record<string, any>;
    try {
      p = body === '' ? {} : JSON.parse(body);
    } catch {
      throw new StepFunctionsError('SerializationException', 'Malformed request body');
    }
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new StepFunctionsError('SerializationException', 'The request body must be a JSON object');
    switch (action) {
      case 'CreateStateMachine': {
        const m = this.createStateMachine(region, {
          name: p.name,
          definition: typeof p.definition === 'string' ? p.definition : invalidDefinition('definition is required'),
          roleArn: p.roleArn,
          type: p.type,
          loggingConfiguration: p.loggingConfiguration,
          tracingConfiguration: p.tracingConfiguration,
        });
        return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
      }
      case 'DeleteStateMachine':
        this.checkMachineArn(p.stateMachineArn);
        this.deleteStateMachine(p.stateMachineArn);
        return {};
      case 'DescribeStateMachine': {
        const m = this.machine(region, p.stateMachineArn);
        return {
          stateMachineArn: m.arn,
          name: m.name,
          status: 'ACTIVE',
          definition: m.definition,
          roleArn: m.roleArn,
          type: m.type,
          creationDate: seconds(m.creationDate),
          loggingConfiguration: m.loggingConfiguration ?? { level: 'OFF', includeExecutionData: false },
          tracingConfiguration: m.tracingConfiguration ?? { enabled: false },
        };
      }
      case 'ListStateMachines': {
        const all = [...this.machines.values()].filter((m) => m.region === region).sort((a, b) => a.name.localeCompare(b.name));
        const { page, nextToken } = paginate(all, p);
        const stateMachines = page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) }));
        return { stateMachines, nextToken };
      }
      case 'StartExecution': {
        const e = this.startExecution(region, p.stateMachineArn, p.input ?? '{}', p.name);
        return { executionArn: e.arn, startDate: seconds(e.startDate) };
      }
      case 'DescribeExecution': {
        const e = this.execution(p.executionArn);
        return {
          executionArn: e.arn,
          stateMachineArn: e.machine.arn,
          name: e.name,
          status: e.status,
          startDate: seconds(e.startDate),
          stopDate: seconds(e.stopDate),
          input: e.input,
          output: e.output,
          error: e.error,
          cause: e.cause,
        };
      }
      case 'ListExecutions': {
        const m = this.machine(region, p.stateMachineArn);
        const statuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
        if (p.statusFilter !== undefined && !statuses.includes(p.statusFilter)) {
          throw new StepFunctionsError('ValidationException', `1 validation error detected: Value '${p.statusFilter}' at 'statusFilter' failed to satisfy constraint`);
        }
        const all = [...this.executions.values()]
          .filter((e) => e.machine === m && (p.statusFilter === undefined || e.status === p.statusFilter))
          .sort((a, b) => b.startDate - a.startDate);
        const { page, nextToken } = paginate(all, p);
        return {
          executions: page.map((e) => ({
            executionArn: e.arn,
            stateMachineArn: m.arn,
            name: e.name,
            status: e.status,
            startDate: seconds(e.startDate),
            stopDate: seconds(e.stopDate),
          })),
          nextToken,
        };
      }
      case 'GetExecutionHistory': {
        const e = this.execution(p.executionArn);
        const events = p.reverseOrder === true ? [...e.events].reverse() : e.events;
        const { page, nextToken } = paginate(events, p);
        return { events: page.map((ev) => ({ ...ev, timestamp: seconds(ev.timestamp) })), nextToken };
      }
      case 'StopExecution': {
        const e = this.execution(p.executionArn);
        // Stopping an execution that has ended is refused (NOT CONFIRMED: the error of a live call).
        if (e.status !== 'RUNNING') throw new StepFunctionsError('ValidationException', `Execution Does Not Exist or is not running: '${e.arn}'`);
        e.error = typeof p.error === 'string' ? p.error : undefined;
        e.cause = typeof p.cause === 'string' ? p.cause : undefined;
        e.stopDate = this.provider.clock.now();
        e.status = 'ABORTED';
        e.abort?.();
        return { stopDate: seconds(e.stopDate) };
      }
      default:
        throw new StepFunctionsError('UnknownOperationException', `Unknown operation ${target ?? '(none)'}`);
    }
  }

  private checkMachineArn(arn: unknown): asserts arn is string {
    if (typeof arn !== 'string' || !/^arn:aws:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) throw invalidArn(arn);
  }

  private machine(region: string, arn: unknown): Machine {
    this.checkMachineArn(arn);
    const m = this.machines.get(arn);
    if (!m || m.region !== region) throw new StepFunctionsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  private async run(e: Execution, input: unknown): Promise<void> {
    const clock = this.provider.clock;
    const event = (type: string, details: Record<string, unknown> = {}) => {
      const id = e.events.length + 1;
      e.events.push({ id, previousEventId: id - 1, timestamp: clock.now(), type, ...details });
    };
    const definition = JSON.parse(onProviderClock(e.machine.definition));
    delete definition.TimeoutSeconds;
    const { waits, retryIntervals } = clockOverrides(definition, clock.speed);
    const clients = new Map<string, any>();
    const clientConfig = {
      region: e.machine.region, endpoint: this.provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1,
    };
    const handlers: Record<string, (input: any) => Promise<any>> = {};
    const resources: Record<string, string> = {};
    /** Each Task state's latest result as the integration answered it (before ResultSelector and ResultPath). */
    const results: Record<string, unknown> = {};
    try {
      for (const [name, state] of Object.entries<any>(definition.States)) {
        if (state.Type !== 'Task') continue;
        resources[name] = state.Resource;
        const call = this.bindTask(name, state.Resource, e.machine.region, clientConfig, clients);
        handlers[name] = async (taskInput: any) => {
          const result = await call(taskInput);
          results[name] = result;
          return result;
        };
      }
    } catch (err) {
      event('ExecutionStarted', { executionStartedEventDetails: { input: e.input, roleArn: e.machine.roleArn } });
      this.finish(e, 'FAILED', undefined, { error: 'States.Runtime', cause: (err as Error).message }, event);
      this.statusChanged(e);
      return;
    }
    const machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } });
    const run = machine.run(input as any, {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
      context: {
        Execution: { Id: e.arn, Name: e.name, StartTime: new Date(e.startDate).toISOString(), Input: input as any, RoleArn: e.machine.roleArn },
        StateMachine: { Id: e.machine.arn, Name: e.machine.name },
        ...clockContext(this.provider, e.startDate),
      } as any,
    });
    e.abort = () => run.abort();
    // A Task state's attempts as Step Functions records them: TaskScheduled and TaskStarted per
    // attempt, then TaskSucceeded or TaskFailed (a retry is a failed attempt and a new one), with the
    // integration named as `resourceType` (`lambda`, `sns`, `aws-sdk:elasticache`) and `resource`
    // (`invoke`, `publish`, `createSnapshot`) (API reference, HistoryEvent, TaskScheduledEventDetails).
    // What Step Functions bills follows from them: a transition per state entered and per retry.
    const task = (name: string) => {
      const resource = resources[name] ?? '';
      const parts = resource.split(':');
      return parts[4] === '' && parts[2] === 'states'
        ? { resourceType: parts.slice(5, -1).join(':'), resource: parts[parts.length - 1] }
        : { resourceType: 'lambda', resource: 'invoke' };
    };
    // `parameters` here is the state's input, not the effective parameters Step Functions records.
    const attempt = (name: string, taskInput: unknown) => {
      event('TaskScheduled', { taskScheduledEventDetails: { ...task(name), region: e.machine.region, parameters: JSON.stringify(taskInput ?? null) } });
      event('TaskStarted', { taskStartedEventDetails: task(name) });
    };
    const collect = (async () => {
      for await (const log of run.eventLogs) {
        const top = log.type !== 'ExecutionStarted' && 'state' in log && log.index === undefined;
        if (log.type === 'ExecutionStarted') {
          event('ExecutionStarted', { executionStartedEventDetails: { input: e.input, roleArn: e.machine.roleArn } });
        } else if (log.type === 'StateEntered' && top) {
          event(`${log.state.type}StateEntered`, { stateEnteredEventDetails: { name: log.state.name, input: JSON.stringify(log.state.input) } });
          if (log.state.type === 'Task') attempt(log.state.name, log.state.input);
        } else if (log.type === 'StateExited' && top) {
          if (log.state.type === 'Task') event('TaskSucceeded', { taskSucceededEventDetails: { ...task(log.state.name), output: JSON.stringify(results[log.state.name] ?? null) } });
          event(`${log.state.type}StateExited`, { stateExitedEventDetails: { name: log.state.name, output: JSON.stringify(log.state.output ?? null) } });
        } else if (log.type === 'StateRetried' && top && log.state.type === 'Task') {
          // The failed attempt's StateFailed came first (its TaskFailed below).
          attempt(log.state.name, log.state.input);
        } else if (log.type === 'StateFailed' && log.state.type === 'Task' && top) {
          event('TaskFailed', { taskFailedEventDetails: { ...task(log.state.name), error: log.Error, cause: String(log.Cause ?? '') } });
        }
      }
    })();
    let output: unknown;
    let failure: { error: string; cause: string } | undefined;
    let aborted = false;
    try {
      output = await run.result;
    } catch (err) {
      const x = err as { name?: string; message: string; cause?: { name?: string; message?: string } };
      if (x.name === 'ExecutionAbortedError') aborted = true;
      else failure = { error: x.cause?.name ?? 'States.Runtime', cause: x.cause?.message ?? x.message };
    }
    await collect.catch(() => undefined);
    for (const c of clients.values()) c.destroy();
    if (aborted || e.status === 'ABORTED') {
      e.stopDate ??= clock.now();
      e.status = 'ABORTED';
      event('ExecutionAborted', { executionAbortedEventDetails: { error: e.error, cause: e.cause } });
    } else {
      this.finish(e, failure ? 'FAILED' : 'SUCCEEDED', output, failure, event);
    }
    this.statusChanged(e);
  }

  /**
   * Sends the execution's "Step Functions Execution Status Change" event to EventBridge's default
   * bus in its region (user guide, "Automating Step Functions event delivery with EventBridge"):
   * times in epoch milliseconds, input and output as JSON text.
   */
  private statusChanged(e: Execution): void {
    const event = {
      'version': '0' as const,
      'id': randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      'source': 'aws.states',
      'account': LOCAL_ACCOUNT,
      'time': new Date(e.stopDate ?? this.provider.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': e.machine.region,
      'resources': [e.arn],
      'detail': {
        executionArn: e.arn,
        stateMachineArn: e.machine.arn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        stopDate: e.stopDate ?? null,
        input: e.input,
        output: e.output ?? null,
        error: e.error ?? null,
        cause: e.cause ?? null,
      },
    };
    void this.provider.eventBridge.putEvent(event).catch((err) => process.stderr.write(`local provider: delivering ${e.arn}'s status change failed: ${err}\n`));
  }

  private finish(e: Execution, status: 'SUCCEEDED' | 'FAILED', output: unknown, failure: { error: string; cause: string } | undefined,
    event: (type: string, details?: Record<string, unknown>) => void): void {
    e.stopDate = this.provider.clock.now();
    if (status === 'SUCCEEDED') {
      const text = JSON.stringify(output ?? null);
      if (Buffer.byteLength(text) > MAX_PAYLOAD) {
        // An output over the limit fails the execution (developer guide, "Step Functions service quotas"; error name NOT CONFIRMED).
        failure = { error: 'States.DataLimitExceeded', cause: 'The state/task returned a result with a size exceeding the maximum number of bytes service limit.' };
      } else {
        e.output = text;
        e.status = 'SUCCEEDED';
        event('ExecutionSucceeded', { executionSucceededEventDetails: { output: text } });
        return;
      }
    }
    e.status = 'FAILED';
    e.error = failure!.error;
    e.cause = failure!.cause;
    event('ExecutionFailed', { executionFailedEventDetails: { error: e.error, cause: e.cause } });
  }

  private bindTask(state: string, resource: unknown, region: string, clientConfig: Record<string, unknown>, clients: Map<string, any>):
  (input: any) => Promise<any> {
    if (typeof resource !== 'string') throw new Error(`state ${state}: Resource is not a string`);
    const sdk = awsSdkTask(state, resource, clientConfig, clients);
    if (sdk) return sdk;
    if (resource === 'arn:aws:states:::sns:publish') return (input) => this.publish(region, input);
    if (resource === 'arn:aws:states:::lambda:invoke') {
      return async (input) => {
        const { payload, requestId } = await this.invoke(region, input?.FunctionName, input?.Payload);
        return {
          ExecutedVersion: '$LATEST',
          Payload: payload,
          SdkHttpMetadata: { HttpHeaders: { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId }, HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: requestId },
          StatusCode: 200,
        };
      };
    }
    if (/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(resource)) {
      return async (input) => (await this.invoke(region, resource, input)).payload;
    }
    throw new Error(`state ${state}: the local provider does not bind Task resource ${resource}`);
  }

  private async invoke(region: string, functionName: unknown, payload: unknown): Promise<{ payload: unknown; requestId: string }> {
    if (typeof functionName !== 'string') throw new TaskError('States.Runtime', 'The lambda:invoke task needs Parameters.FunctionName');
    // A function ARN names its own region.
    const fnRegion = /^arn:aws:lambda:([a-z0-9-]+):/.exec(functionName)?.[1] ?? region;
    let result;
    try {
      result = await this.provider.lambda.invoke(fnRegion, functionName, payload === undefined ? '' : JSON.stringify(payload));
    } catch (err) {
      if (err instanceof LambdaError) throw new TaskError(sdkErrorName('Lambda', { name: err.type }), err.message);
      throw err;
    }
    const parsed = tryJson(result.payload);
    if (result.functionError) {
      // The function's own error is named by its errorType; "unhandled errors", among them out of
      // memory and timeouts, are Lambda.Unknown (developer guide, "Handle Lambda service exceptions").
      // The local Lambda's runtime failures (Sandbox.Timedout, Runtime.ExitError) are such errors.
      // The cause text of Lambda.Unknown is NOT CONFIRMED word for word.
      const errorType = (parsed as any)?.errorType;
      if (typeof errorType === 'string' && !/^(Sandbox|Runtime)\./.test(errorType)) throw new TaskError(errorType, result.payload);
      throw new TaskError('Lambda.Unknown', `The cause could not be determined because Lambda did not return an error type. Returned payload: ${result.payload}`);
    }
    return { payload: parsed, requestId: result.requestId };
  }

  private async publish(region: string, input: any): Promise<unknown> {
    const params = new URLSearchParams({ Action: 'Publish', Version: '2010-03-31' });
    const topicArn = input?.TopicArn ?? input?.TargetArn;
    if (typeof topicArn === 'string') params.set(input?.TopicArn !== undefined ? 'TopicArn' : 'TargetArn', topicArn);
    // A Message that is not text is sent as its JSON text (developer guide, "Publish messages from an Amazon SNS topic with Step Functions").
    if (input?.Message !== undefined) params.set('Message', typeof input.Message === 'string' ? input.Message : JSON.stringify(input.Message));
    if (typeof input?.Subject === 'string') params.set('Subject', input.Subject);
    if (typeof input?.MessageStructure === 'string') params.set('MessageStructure', input.MessageStructure);
    if (typeof input?.MessageGroupId === 'string') params.set('MessageGroupId', input.MessageGroupId);
    const topicRegion = typeof topicArn === 'string' ? (/^arn:aws:sns:([a-z0-9-]+):/.exec(topicArn)?.[1] ?? region) : region;
    try {
      const xml = this.provider.sns.handle(topicRegion, params.toString());
      const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(xml)?.[1];
      return { MessageId: messageId, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: randomUUID() } };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code) throw new TaskError(sdkErrorName('SNS', { name: code }), (err as Error).message);
      throw err;
    }
  }
}

/** Throws InvalidDefinition (used in an expression). */
function invalidDefinition(why: string): never {
  throw new StepFunctionsError('InvalidDefinition', `Invalid State Machine Definition: '${why}'`);
}

/** Checks a definition as CreateStateMachine does: JSON, and valid ASL as the interpreter reads it. */
export function validateDefinition(text: string): void {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (e) {
    invalidDefinition(`INVALID_JSON_DESCRIPTION: ${(e as Error).message}`);
  }
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) invalidDefinition('SCHEMA_VALIDATION_FAILED: the definition is not an object');
  try {
    new StateMachine(JSON.parse(onProviderClock(text)), { validationOptions: { checkArn: false, checkPaths: true } });
  } catch (e) {
    invalidDefinition(`SCHEMA_VALIDATION_FAILED: ${(e as Error).message}`);
  }
}

function paginate<T>(all: T[], p: Record<string, any>): { page: T[]; nextToken?: string } {
  const max = p.maxResults === undefined || p.maxResults === 0 ? DEFAULT_PAGE : p.maxResults;
  if (!Number.isInteger(max) || max < 0 || max > MAX_PAGE) {
    throw new StepFunctionsError('ValidationException', `1 validation error detected: Value '${p.maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  }
  const start = p.nextToken === undefined ? 0 : Number(p.nextToken);
  if (!Number.isInteger(start) || start < 0 || start > all.length) throw new StepFunctionsError('InvalidToken', `Invalid Token: '${String(p.nextToken)}'`);
  const page = all.slice(start, start + max);
  return { page, nextToken: start + max < all.length ? String(start + max) : undefined };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
