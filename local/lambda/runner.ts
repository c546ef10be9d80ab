/**
 * The program a function's execution environment runs: a Node.js child process started in the
 * function's code folder (its task root), which loads the handler module once (the init phase) and
 * then answers invocations over IPC, one at a time, as the Lambda Node.js runtime calls a handler:
 * `handler(event, context)` awaited (or, for a handler of three parameters, its callback).
 *
 * It is kept as source text (plain CommonJS JavaScript) rather than a file beside this module, so
 * that it is there wherever the provider runs from (ts-node, jest, or the esbuild bundle of `serve`).
 * Messages: parent to child `{ id, event, deadline, context }`; child to parent `{ id, result }`
 * (the result as JSON text) or `{ id, error: { errorType, errorMessage, trace } }`, the shape of an
 * unhandled error in Invoke's payload (Lambda developer guide, "Lambda function errors in Node.js").
 */
import { installLocalLookup } from '../resolve';

export const RUNNER_SOURCE = String.raw`'use strict';
const path = require('path');
// As in a VPC, the function resolves ElastiCache endpoint names and private hosted zones through the
// provider's DNS server (local/resolve.ts), before its handler module is loaded.
if (process.env.CDK_ELASTICACHE_BACKUP_DNS) {
  (${installLocalLookup.toString()})().servers.push(process.env.CDK_ELASTICACHE_BACKUP_DNS);
}
// CloudFormation's custom resource response endpoint (local/cfn/responses.ts): a ResponseURL's host
// name, which providers reach on port 443 as in AWS, leads to the provider's endpoint.
if (process.env.CDK_ELASTICACHE_BACKUP_CFN_RESPONSE) {
  const [host, target] = process.env.CDK_ELASTICACHE_BACKUP_CFN_RESPONSE.split('=');
  const [address, port] = target.split(':');
  const https = require('https');
  const createConnection = https.globalAgent.createConnection;
  https.globalAgent.createConnection = function (options, callback) {
    const name = options && (options.servername || options.host || options.hostname);
    if (name === host && (options.port === undefined || options.port === null || Number(options.port) === 443)) {
      options = Object.assign({}, options, { host: address, port: Number(port), servername: host });
    }
    return createConnection.call(this, options, callback);
  };
}
const [moduleName, exportName] = (() => {
  const handler = process.env._HANDLER || '';
  const dot = handler.lastIndexOf('.');
  return dot > 0 ? [handler.slice(0, dot), handler.slice(dot + 1)] : [handler, ''];
})();
function errorOf(e, fallbackType) {
  const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e));
  return {
    errorType: err.name && err.name !== 'Error' ? err.name : (fallbackType || 'Error'),
    errorMessage: err.message,
    trace: String(err.stack || '').split('\n'),
  };
}
let handler;
let initError;
try {
  const mod = require(path.resolve(process.env.LAMBDA_TASK_ROOT || '.', moduleName));
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: process.env._HANDLER + ' is undefined or not exported', trace: [] };
  }
} catch (e) {
  const code = e && e.code;
  initError = code === 'MODULE_NOT_FOUND' && String(e.message).includes(moduleName)
    ? { errorType: 'Runtime.ImportModuleError', errorMessage: 'Error: ' + e.message, trace: String(e.stack || '').split('\n') }
    : errorOf(e, 'Runtime.UserCodeSyntaxError');
}
process.on('message', (m) => {
  if (initError) return process.send({ id: m.id, error: initError });
  const context = Object.assign({}, m.context, {
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, m.deadline - Date.now()),
  });
  let settled = false;
  const finish = (error, result) => {
    if (settled) return;
    settled = true;
    if (error !== undefined && error !== null) return process.send({ id: m.id, error: errorOf(error) });
    let text;
    try {
      text = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      return process.send({ id: m.id, error: { errorType: 'Runtime.MarshalError', errorMessage: 'Unable to stringify response body', trace: [] } });
    }
    process.send({ id: m.id, result: text });
  };
  try {
    const answer = handler.length >= 3 ? handler(m.event, context, finish) : handler(m.event, context);
    if (answer && typeof answer.then === 'function') answer.then((r) => finish(null, r), (e) => finish(e === undefined || e === null ? new Error(String(e)) : e));
    else if (handler.length < 3) finish(null, answer);
  } catch (e) {
    finish(e);
  }
});
process.on('unhandledRejection', (e) => {
  console.error('Unhandled Promise Rejection', e);
  process.exit(128);
});
`;
