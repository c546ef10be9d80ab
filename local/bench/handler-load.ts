/**
 * Benchmark (not a test): the size of the Lambda handler bundle and the time a fresh Node.js process
 * takes to load it (the module-load part of a cold start), for
 *
 *   current:  each bundle as `npx projen bundle:lambda` builds it (read from .projen/tasks.json):
 *             the runtime's AWS SDK left out, minified, with a source map
 *   previous: the one bundle of every handler as it was built before (AWS SDK inside, not
 *             minified, node20)
 *
 * Loading the current bundle also loads the SDK clients it imports, from node_modules, as Lambda loads
 * them from the runtime's own copy. Each load is a new `node` process; the median of RUNS (default 15)
 * is printed. Run: `npx projen bench:handlers`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const RUNS = Number(process.env.RUNS ?? 15);
const root = path.resolve(__dirname, '..', '..');
// Inside the repository (ignored by git), so that `@aws-sdk/*` resolves from its node_modules.
const out = path.join(root, '.tmp', 'bench-handlers');

function esbuild(args: string[]): void {
  execFileSync(path.join(root, 'node_modules', '.bin', 'esbuild'), args, { cwd: root, stdio: 'inherit' });
}

/** Each bundle as `npx projen bundle:lambda` builds it (its steps in .projen/tasks.json), written under `dir`. */
function currentBundles(dir: string): Array<[string, string[]]> {
  const tasks = JSON.parse(fs.readFileSync(path.join(root, '.projen', 'tasks.json'), 'utf-8'));
  return (tasks.tasks['bundle:lambda'].steps as Array<{ exec: string }>).map((step) => {
    const args = step.exec.split(/\s+/).slice(1);
    const outfile = args.find((a) => a.startsWith('--outfile='))!.slice('--outfile='.length);
    const name = path.basename(path.dirname(outfile));
    return [name, args.map((a) => (a.startsWith('--outfile=') ? `--outfile=${path.join(dir, name, 'index.js')}` : a))];
  });
}

function loadMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); `
    + 'process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));';
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: root }).toString());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function sizeOf(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

fs.rmSync(out, { recursive: true, force: true });
const variants: Array<[string, string[]]> = [
  ['previous (all handlers)', ['lambda/handlers/index.ts', '--bundle', '--platform=node', '--target=node20',
    `--outfile=${path.join(out, 'previous', 'index.js')}`, '--log-level=warning']],
  ...currentBundles(out),
];
console.log(`Handler bundles, median of ${RUNS} loads in a new node ${process.version} process each:`);
for (const [name, args] of variants) {
  esbuild(args);
  const file = args.find((a) => a.startsWith('--outfile='))!.slice('--outfile='.length);
  const dir = path.dirname(file);
  loadMs(file); // warm the file system cache, as a Lambda container's disk would be
  const times = Array.from({ length: RUNS }, () => loadMs(file));
  console.log(`  ${name.padEnd(24)} index.js ${(fs.statSync(file).size / 1024).toFixed(1).padStart(7)} KB, asset ${(sizeOf(dir) / 1024).toFixed(1).padStart(7)} KB, `
    + `load ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
}
fs.rmSync(out, { recursive: true, force: true });
