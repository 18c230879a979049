// npm run bench [-- part ...] [--smoke] [--json FILE]
// Prints a Markdown table (every keepalive figure beside its floor from the same run) and writes
// the raw figures as JSON. Benchmarks are never tests: nothing here fails a build on a slow figure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { markdown, type Row } from './lib.js';

type Part = (options: { smoke: boolean }) => Promise<Row[]>;

const PARTS: Record<string, () => Promise<{ run: Part }>> = {
  'restart-gap': () => import('./restart-gap.js'),
  startup: () => import('./startup.js'),
  stop: () => import('./stop.js'),
  forward: () => import('./forward.js'),
  idle: () => import('./idle.js'),
  endurance: () => import('./endurance.js'),
  'hang-lag': () => import('./hang-lag.js'),
  throughput: () => import('./throughput.js'),
  set: () => import('./set.js'),
  'output-files': () => import('./output-files.js'),
};

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : 'bench-results/latest.json';
const named = args.filter(
  (arg, index) => !arg.startsWith('--') && (jsonIndex < 0 || index !== jsonIndex + 1),
);
const unknown = named.filter((name) => !(name in PARTS));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown part "${unknown[0]}"; parts are ${Object.keys(PARTS).join(', ')}\n`,
  );
  process.exit(2);
}

const rows: Row[] = [];
for (const name of named.length > 0 ? named : Object.keys(PARTS)) {
  process.stderr.write(`bench: ${name}${smoke ? ' (smoke)' : ''}...\n`);
  const part = await (PARTS[name] as () => Promise<{ run: Part }>)();
  rows.push(...(await part.run({ smoke })));
}
process.stdout.write(`${markdown(rows)}\n`);
if (jsonFile) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, smoke, rows }, null, 2)}\n`,
  );
}
