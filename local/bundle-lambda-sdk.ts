/**
 * The AWS SDK for the functions the local provider runs (local/lambda/functions.ts): the Lambda
 * Node.js runtime includes the AWS SDK for JavaScript v3, and functions (this library's handlers,
 * the CDK Provider framework's) leave it out of their bundles. In a checkout the provider's own
 * node_modules has the clients; an app that installed the package has only what it installed. So
 * the clients those functions use are bundled here, one module each, into
 * lib/local/lambda-sdk/node_modules/@aws-sdk/<client>/index.js, which the provider puts last on the
 * functions' NODE_PATH (the app's own copies, when it has them, come first).
 *
 * Run by the bundle:local task: `ts-node -P local/tsconfig.json local/bundle-lambda-sdk.ts`.
 */
import * as path from 'path';
import { buildSync } from 'esbuild';

/** What the library's handlers (lambda/) and the Provider framework's functions require. */
export const LAMBDA_SDK_CLIENTS = [
  'client-cloudformation', 'client-elasticache', 'client-lambda', 'client-route-53', 'client-s3', 'client-secrets-manager', 'client-sfn',
];

const root = path.join(__dirname, '..');
for (const client of LAMBDA_SDK_CLIENTS) {
  buildSync({
    stdin: { contents: `module.exports = require('@aws-sdk/${client}');`, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    outfile: path.join(root, 'lib', 'local', 'lambda-sdk', 'node_modules', '@aws-sdk', client, 'index.js'),
    logLevel: 'warning',
  });
}
