import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The handler bundles `bundle:lambda` builds into assets/, one per kind of function, so that each
 * function loads only its own code: the custom resources' (`custom-resources`, from
 * lambda/handlers/index.ts), the export workflow's steps (`export-workflow`, from
 * lambda/handlers/steps.ts), the AUTH token rotation function (`rotation`, from
 * lambda/handlers/auth-token-rotation.ts), and the standby restore workflow's steps
 * (`standby-restore`) and its check of the standby's data (`standby-check`, with the Redis client).
 */
export type HandlerBundle = 'custom-resources' | 'export-workflow' | 'rotation' | 'standby-restore' | 'standby-check';

/**
 * What every function over a bundled handler shares: the code, the runtime the bundle targets (its
 * AWS SDK is the runtime's), and source-mapped stack traces (the bundle is minified).
 */
export function handlerFunctionProps(bundle: HandlerBundle): Pick<lambda.FunctionProps, 'code' | 'runtime' | 'environment'> {
  return {
    // Bundled with esbuild at build time (the package ships it); nothing is bundled during synth.
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', bundle)),
    runtime: lambda.Runtime.NODEJS_24_X,
    environment: { NODE_OPTIONS: '--enable-source-maps' },
  };
}
