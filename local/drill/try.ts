import * as fs from 'fs';
import { writeReport } from './report';
import { runDrill } from './run';
import { buildApp } from '../../integ/integ.scheduled-export';
process.env.CDK_INTEG_ACCOUNT = '000000000000';
const dir = fs.mkdtempSync('/tmp/drilltry/out-');
buildApp(dir).synth();
const t = Date.now();
runDrill({ assemblyDir: dir, days: Number(process.argv[2] ?? 1), print: (l) => console.log(`[${((Date.now() - t) / 1000).toFixed(1)}s] ${l}`) })
  .then((r) => { console.log('failure:', r.failure); const w = writeReport(dir + '/report', r.log); w.lines.forEach((l) => console.log(l)); })
  .catch((e) => { console.error('ERR', e); process.exitCode = 1; });
