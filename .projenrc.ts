import { awscdk, javascript, JsonFile } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-elasticache-backup',
  packageName: 'cdk-elasticache-backup',
  description:
    'AWS CDK constructs that make ElastiCache Redis deployments recoverable: declared backup plans, manual and final snapshots, export to cross-region S3, and standby restore.',
  keywords: ['aws-cdk', 'cdk', 'elasticache', 'redis', 'backup', 'snapshot', 'disaster-recovery'],
  author: 'cdk-elasticache-backup contributors',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk-elasticache-backup.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // The machines this project is built and tested on run Node 20.
  minNodeVersion: '20.0.0',

  // `cdk-elasticache-backup serve` starts the local provider (local/cli.ts, bundled into
  // lib/local/cli.js after compilation).
  bin: { 'cdk-elasticache-backup': 'bin/cdk-elasticache-backup.js' },
  autoDetectBin: false,

  // cdk-nag 3 needs aws-cdk-lib >= 2.258.0 (its packs fail on 2.257.0 with "NagPack requires a
  // construct tree on the validation context"), and @aws-cdk/integ-runner 2.197.x only reads cloud
  // assemblies from aws-cdk-lib <= 2.257.x. We keep cdk-nag 3 and take 2.258.0, the oldest release it
  // works with, as the floor users need; integration snapshots are then made with the aws-cdk CLI's
  // own synth (projen's IntegrationTest tasks) instead of integ-runner.
  cdkVersion: '2.258.0',
  constructsVersion: '10.5.1',
  // jsii 5.9 compiles with TypeScript 5.9, which ts-jest and typescript-eslint support today; jsii 6
  // moves to TypeScript 6.
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',

  devDeps: [
    // Rule packs the constructs are checked against in tests (AwsSolutions, HIPAA Security,
    // NIST 800-53 rev 5). Version 3 uses aws-cdk-lib's Validations API (see cdkVersion above).
    'cdk-nag@^3.0.2',
    // The ElastiCache client the Lambda handlers use. Handlers are bundled with esbuild into
    // assets, so the SDK is never a runtime dependency of the library.
    '@aws-sdk/client-elasticache@^3',
    // The local provider (local/) talks to the redis-server processes behind its emulated nodes
    // (PING, INFO, BGSAVE, REPLICAOF, data checks in tests). ioredis is the widely used client with
    // Redis Cluster support, which cluster-mode-enabled groups need. A dev dependency while the
    // provider runs from source; it becomes a bundled one when the `serve` bin ships.
    'ioredis@^5.9.0',
    // The S3 client: tests drive the local provider's S3 with it, and the export workflow's handlers
    // (issue 4) verify exported objects with it. Bundled into handlers like the ElastiCache client.
    '@aws-sdk/client-s3@^3',
    // The Route 53 client: tests drive the local provider's Route 53 with it; the restore
    // workflow's DNS cutover (DESIGN.md part 4) uses it.
    '@aws-sdk/client-route-53@^3',
    // The CloudFormation client: the final snapshot handler asks CloudFormation whether the group
    // is leaving the stack (DescribeStacks, GetTemplate, DescribeStackResource) before it deletes
    // anything, and tests drive the local provider's CloudFormation with it. Bundled like the others;
    // the same release as the ElastiCache client so the bundle shares one SDK core.
    '@aws-sdk/client-cloudformation@3.1127.0',
    // Bundles the local provider's command (and, later, the Lambda handlers) into single files at
    // build time, so the package needs no runtime dependencies for them and synth needs no Docker.
    'esbuild@^0.25',
    // Parses the XML bodies S3 requests carry (ACLs, replication rules, multipart completion) in the
    // local provider; no native code, the usual choice for XML in Node.
    'fast-xml-parser@^5',
    // Runs the Step Functions definitions CDK synthesized (JSONPath ASL) on this machine, with each
    // Task bound to a local function: the scheduled export workflow is tested against the local
    // provider through it. The only maintained ASL interpreter for Node; 3.x declares Node >= 22 and
    // needs a Promise.withResolvers polyfill on Node 20 (test/local/sfn.ts provides it).
    'aws-local-stepfunctions@^3',
    // The local provider's DNS server (issue 9: the cutover is a real DNS answer) encodes and decodes
    // DNS messages with it: the packet library of the mafintosh/multicast-dns family, ~60 M weekly
    // downloads, no dependencies but ip parsing; the server around it (UDP, TCP, zones) is ours.
    'dns-packet@^5.6.1',
    '@types/dns-packet@^5',
    // Issues the certificates of the local provider's TLS nodes, for their endpoint names and
    // loopback addresses, from this machine's local CA (local/tls.ts): Node can verify certificates
    // but not make them. The widely used pure-JavaScript X.509 implementation (no dependencies);
    // keys come from Node's own crypto.
    'node-forge@^1.3.1',
    '@types/node-forge@^1',
    // Clients of the services the local provider emulates for the workflows (Secrets Manager for the
    // AUTH token rotation, SNS for notifications, CloudWatch for metrics and alarms, Lambda for the
    // deployed functions): the provider's tests drive it with them, and functions it runs in child
    // processes find them as the Lambda Node.js runtime's built-in SDK.
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-sns@^3',
    '@aws-sdk/client-cloudwatch@^3',
    '@aws-sdk/client-lambda@^3',
    // Step Functions: test/local/stepfunctions.test.ts drives the provider's Step Functions API with the real client.
    '@aws-sdk/client-sfn@^3',
    // When an EventBridge cron expression next falls due (local/eventbridge.ts: schedule rules fire on
    // the simulated clock). Made for AWS's six-field syntax, L, W and # included (general cron
    // libraries read five fields and no `?`), ~120 k weekly downloads, one small dependency; it does
    // not validate, so the provider checks the fields first.
    'aws-cron-parser@^1.1.12',
    // Unpacks Lambda .zip files in the local provider (local/lambda/zip.ts): no native code, two small
    // dependencies, ~120 M weekly downloads; refuses absolute and `..` entry names and checks sizes and
    // CRC-32 as it streams. yazl, by the same author, makes the .zip files the tests upload.
    'yauzl@^3.4.0',
    '@types/yauzl@^3',
    'yazl@^3.3.1',
    '@types/yazl@^3',
    // The local CloudFormation reads YAML templates (the CDK CLI sends the bootstrap template as
    // YAML): the YAML 1.2 parser with custom tags (CloudFormation's `!Ref` short forms), no
    // dependencies; already in the tree through projen.
    'yaml@^2',
  ],

  // There is no GitHub here: CI is `.ci/run`, and releases are not made from this repository yet.
  // Generated workflows that nothing runs would only be untested files.
  github: false,
  release: false,
  sampleCode: false,

  jestOptions: {
    // Not 30: see eslint-import-resolver-typescript below.
    jestVersion: '^29',
    // A snapshot that changed must fail the run, not be silently rewritten. `npx projen test:update`
    // rewrites them on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // An empty run is a broken run.
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // The local provider's name resolution is in place before a test file loads a Redis client
      // (test/setup.ts, local/resolve.ts).
      setupFiles: ['<rootDir>/test/setup.ts'],
    },
  },

  tsconfigDev: {
    // tsconfigDev lives in test/, so these are relative to it.
    include: ['../lambda/**/*.ts', '../local/**/*.ts', '../integ/**/*.ts'],
  },

  gitignore: ['cdk.out/', '/integ/**/cdk.out/', '.cdk.staging/', '/.tmp/', '/drill-report/'],
});

// eslint-import-resolver-typescript 4.x (projen's default) and jest 30 depend on unrs-resolver's
// native bindings. The registry these machines reach serves only the linux ones, so
// package-lock.json lacks the others and `npm ci` refuses it ("Missing: ... from lock file").
// The resolver 3.6 and jest 29 (jestVersion above) resolve in plain JavaScript.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@~3.6.3');

// No import cycles: with a cycle, load order decides what a module sees (an import still undefined
// while its module loads), and modules in a cycle cannot be read or moved on their own.
project.eslint?.addRules({ 'import/no-cycle': ['error'] });

// These machines run Node 20 (see the env notes); jsii's end-of-life banner would bury real output.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '1');

// The layout (DESIGN.md): handlers in lambda/, the local provider in local/, integration apps in
// integ/. They are type-checked and linted like src/.
// Each of these folders has a tsconfig.json of its own (as test/ has), so that typescript-eslint's
// project service finds the files and ts-node runs them with the project's compiler options.
// Integration apps are development tools: they may import dev dependencies (cdk-nag). So may the
// local provider while it runs from source only; when its `serve` bin ships in the package, its
// dependencies (ioredis) become bundled ones and this exception narrows to local/drill.ts.
project.eslint?.allowDevDeps('integ/**');
project.eslint?.allowDevDeps('local/**');
for (const dir of ['local', 'integ']) {
  project.eslint?.addLintPattern(dir);
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '..' },
      include: ['**/*.ts', '../src/**/*.ts', ...(dir === 'local' ? ['../integ/**/*.ts'] : [])],
      exclude: ['node_modules'],
    },
  });
}

// Integration apps (`integ/integ.<case>.ts`). Their synthesized templates are kept as snapshots and
// compared on every test run (this brings in the aws-cdk CLI as a dev dependency: it does the synth); `npx projen integ:<case>:snapshot` rewrites one on purpose, and
// `npx projen integ:<case>:deploy` deploys it to a real account.
for (const name of ['backup-plan', 'scheduled-export']) {
  const integ = new awscdk.IntegrationTest(project, {
    name,
    entrypoint: `integ/integ.${name}.ts`,
    tsconfigPath: project.tsconfigDev.fileName,
    cdkDeps: project.cdkDeps,
  });
  // The stack metadata holds stack traces with absolute paths (cdk-nag acknowledgements always
  // record one), so it differs between checkouts: it is neither kept nor compared. The templates,
  // the asset manifests and the cdk-nag validation report are.
  const snapshotDir = `integ/${name}.integ.snapshot`;
  const assertDir = `integ/.tmp/${name}.integ/assert.cdk.out`;
  project.addGitIgnore(`/${snapshotDir}/*.metadata.json`);
  const diff = integ.assertTask.steps.findIndex((step) => step.exec?.startsWith('diff ') || step.execArgs?.[0] === 'diff');
  if (diff < 0) {
    throw new Error(`projen's integ:${name}:assert task has no diff step to adjust`);
  }
  integ.assertTask.removeStep(diff);
  integ.assertTask.execArgs(['diff', '-r', ...['asset.*', 'cdk.out', 'manifest.json', 'tree.json', '*.metadata.json'].flatMap((x) => ['-x', x]), `${snapshotDir}/`, `${assertDir}/`]);
}

// ts-jest runs with isolatedModules (no type checking), so the tests, the local provider and the
// integration apps are type-checked on their own before jest runs.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check test/, local/ and integ/ (jest does not)',
});
for (const config of ['test/tsconfig.json', 'local/tsconfig.json', 'integ/tsconfig.json', 'lambda/tsconfig.json']) {
  typecheck.exec(`tsc --noEmit -p ${config}`);
}
project.testTask.prependSpawn(typecheck);

// The local provider's TLS nodes (groups with in-transit encryption) serve certificates for their
// endpoint names, issued by this machine's local CA (local/tls.ts, made on first use in
// ~/.cdk-elasticache-backup/local-ca, its key never committed or shipped). Clients in the tests, and
// the Lambda handlers run in-process by tests, the drill and bench:restore, trust it as users' apps
// do: through NODE_EXTRA_CA_CERTS, which Node reads at start (jest's workers inherit it), so the CA
// is made and its path printed before the task's command starts.
const testCa = '$(ts-node -P local/tsconfig.json local/tls.ts)';
project.testTask.env('NODE_EXTRA_CA_CERTS', testCa);

// The local provider's command, bundled with its dependencies (ioredis, fast-xml-parser) into one
// file in lib/, next to what jsii compiles, so that the package's bin runs without them installed.
const bundleLocal = project.addTask('bundle:local', {
  description: 'Bundle the local provider command into lib/local/cli.js',
  exec: 'esbuild local/cli.ts --bundle --platform=node --target=node20 --outfile=lib/local/cli.js --log-level=warning',
});
// The preload `serve` prints in NODE_OPTIONS: Node apps resolve the provider's endpoint names through
// its DNS server (local/resolve-hook.ts).
bundleLocal.exec('esbuild local/resolve-hook.ts --bundle --platform=node --target=node20 --outfile=lib/local/resolve-hook.js --log-level=warning');
// The AWS SDK clients the functions the provider runs need, as Lambda's runtime gives them
// (local/bundle-lambda-sdk.ts): an app that installed the package has no SDK of its own.
bundleLocal.exec('ts-node -P local/tsconfig.json local/bundle-lambda-sdk.ts');
// Part of `compile` itself (not only of `build`), so that `npx projen compile` alone gives a package
// that works: the handler bundle before jsii, the `serve` bundle after it.
project.compileTask.spawn(bundleLocal);

// Lambda handlers (lambda/), bundled into assets/ before compilation, so that synth never bundles
// (no Docker, no esbuild at the user's end) and tests find the assets. As aws-cdk-lib's own handlers
// do, they use the AWS SDK for JavaScript v3 that the Lambda Node.js runtime provides (left out: 9 to
// 14 KB a bundle instead of one 1.9 MB bundle), minified, with a source map without sources (stack
// traces name the handler's lines; NODE_OPTIONS=--enable-source-maps is set on the functions). The
// target is the runtime the functions run on, nodejs24.x (src/private/handler-code.ts): esbuild then
// keeps the syntax that runtime has natively. One bundle per kind of function, so each loads only its
// own code. `npx projen bench:handlers` prints sizes and load times.
const bundleLambda = project.addTask('bundle:lambda', {
  description: 'Bundle the Lambda handlers into assets/<bundle>/index.js (custom resources, export workflow, AUTH token rotation, standby restore and check)',
});
for (const [entry, bundle] of [
  ['lambda/handlers/index.ts', 'custom-resources'],
  ['lambda/handlers/steps.ts', 'export-workflow'],
  ['lambda/handlers/auth-token-rotation.ts', 'rotation'],
  // The standby restore workflow's steps, and its check of the standby's data, which bundles the
  // Redis client (ioredis: Redis Cluster routing and TLS) and so is kept out of the other functions.
  ['lambda/handlers/standby-restore.ts', 'standby-restore'],
  ['lambda/handlers/standby-check.ts', 'standby-check'],
]) {
  bundleLambda.exec(`esbuild ${entry} --bundle --platform=node --target=node24 --external:@aws-sdk/* --minify --sourcemap --sources-content=false `
    + `--outfile=assets/${bundle}/index.js --log-level=warning`);
}
project.compileTask.prependSpawn(bundleLambda);
project.testTask.prependSpawn(bundleLambda);
project.addGitIgnore('/assets/');

// `integ:<case>:deploy:local`: the integration app deployed to the local provider with the real CDK
// CLI (local/integ-deploy.ts): bootstrap of every account/region its stacks use, deploy --all, a
// report (wall time per phase, resource types deployed for real and recorded only), destroy --all.
// To the provider whose variables are exported (`export $(npx cdk-elasticache-backup serve
// --detach)`), else to one it starts and stops. A task of its own rather than `integ:<case>:deploy`
// honouring serve's environment: that task moves its output over the committed snapshot (which
// would then hold the provider's account and change with every run) and destroys from it, which is
// right for a real account and wrong here; this one never touches the snapshot.
for (const name of ['backup-plan', 'scheduled-export']) {
  const local = project.addTask(`integ:${name}:deploy:local`, {
    description: `deploy integration test '${name}' to the local provider and destroy it, with timings (the snapshot is left alone)`,
    exec: `ts-node -P local/tsconfig.json local/integ-deploy.ts ts-node -P test/tsconfig.json integ/integ.${name}.ts`,
  });
  // The app's functions deploy from the handler bundles, as in the drill.
  local.prependSpawn(bundleLambda);
}
project.addPackageIgnore('!/assets/');
// The package is the compiled library, its handler bundle and the bundled `serve` command; the
// sources of the handlers, the local provider and the example apps, and CI's scripts, are not for users.
for (const dir of ['/.ci/', '/lambda/', '/local/', '/integ/']) {
  project.addPackageIgnore(dir);
}
project.eslint?.addLintPattern('lambda');
// Handlers import the SDK clients as dev dependencies: esbuild bundles them into the assets.
project.eslint?.allowDevDeps('lambda/**');
new JsonFile(project, 'lambda/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts', '../src/private/*-contract.ts'],
    exclude: ['node_modules'],
  },
});

// Benchmarks print numbers; they are not tests and do not run in CI.
project.addTask('bench', {
  description: 'Benchmark: the local provider\'s snapshot + export + restore against raw redis-server BGSAVE + load (KEYS=1000000)',
  exec: 'ts-node -P local/tsconfig.json local/bench/snapshot-export-restore.ts',
});

project.addTask('bench:handlers', {
  description: 'Benchmark: size and module load time of the Lambda handler bundle, as built now and as built before (RUNS=15)',
  exec: 'ts-node -P local/tsconfig.json local/bench/handler-load.ts',
});

// A restore of BENCH_GIB GiB through the synthesized workflows, with the constructs' default waits;
// it runs the bundled handlers, so the bundles are built first.
const benchRestore = project.addTask('bench:restore', {
  description: 'Benchmark: export, then StandbyRestore failover and rehearsal of BENCH_GIB GiB (default 1) on the local provider; '
    + 'prints simulated times, RPO/RTO, transitions, Lambda invocations and cost (BENCH_GIB=1, BENCH_SPEED=10)',
  exec: 'ts-node -P local/tsconfig.json local/bench/standby-restore.ts',
});
benchRestore.prependSpawn(bundleLambda);
benchRestore.env('NODE_EXTRA_CA_CERTS', testCa);

// The soak: serve as a process under mixed load with aborted requests and killed nodes, bounded in
// time (SOAK_SECONDS or --seconds, default 600); a script that reports, not a test.
const soak = project.addTask('soak', {
  description: 'Soak: serve under mixed SDK load, aborted requests and killed nodes; reports requests, errors by code, RSS, leftovers (SOAK_SECONDS=600)',
  exec: 'ts-node -P local/tsconfig.json local/bench/soak.ts',
  receiveArgs: true,
});
soak.prependSpawn(bundleLocal);

// The main job: the DR drill on the example app (local/drill.ts): synthesize integ/integ.scheduled-export.ts,
// deploy it into the local provider with the real CDK CLI, a week of nightly exports on the simulated
// clock while the group is written to, an outage of the primary region, the StandbyRestore failover,
// every write read back through the DNS name; RPO, RTO, cost and a report in drill-report/. Options
// as `cdk-elasticache-backup drill` takes them (`npx projen drill --days 3`).
const drill = project.addTask('drill', {
  description: 'Local DR drill on the example app: deploy, a week of nightly exports, a regional outage, failover; RPO, RTO, cost, report in drill-report/',
  exec: 'ts-node -P local/tsconfig.json local/drill.ts',
  receiveArgs: true,
});
// The example app has custom resources, whose handler bundles synthesis needs: on a fresh clone
// (`npm ci && npx projen drill`) nothing has built them yet.
drill.prependSpawn(bundleLambda);
drill.env('NODE_EXTRA_CA_CERTS', testCa);

project.synth();
