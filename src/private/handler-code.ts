import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * What every function over the bundled handlers (assets/handlers, built by `bundle:lambda`) shares:
 * the code, the runtime the bundle targets (its AWS SDK is the runtime's), and source-mapped stack
 * traces (the bundle is minified).
 */
export function handlerFunctionProps(bundle: 'handlers' | 'rotation' = 'handlers'): Pick<lambda.FunctionProps, 'code' | 'runtime' | 'environment'> {
  return {
    // Bundled with esbuild at build time (the package ships it); nothing is bundled during synth.
    // `rotation` is the AUTH token rotation function's own bundle (assets/rotation).
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', bundle)),
    runtime: lambda.Runtime.NODEJS_24_X,
    environment: { NODE_OPTIONS: '--enable-source-maps' },
  };
}
