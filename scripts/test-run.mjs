// `npm test` after the build: sets the machine up (scripts/test-system.mjs), installs the packed
// package once for the run (scripts/test-install.mjs), runs ava with its arguments, and makes sure
// no process of the run outlives it. Every process the tests start inherits TEST_KEEPALIVE_RUN;
// when ava ends, or this is interrupted, whatever still carries it, and whatever still runs below
// this process, is killed. Processes left after a run that ended by itself fail the run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUpMachine } from './test-system.mjs';
import { installPacked } from './test-install.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const AVA = join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const say = (line) => process.stderr.write(`${line}\n`);
const cleanup = join(ROOT, 'build', 'test', 'helpers', 'cleanup.js');
if (!existsSync(cleanup)) {
  say(`npm test: ${cleanup} is missing: run the tests with npm test (it builds them first)`);
  process.exit(1);
}
const { descendantsOf, endTrees, processesOfRun, RUN_VARIABLE } = await import(cleanup);

const problem = setUpMachine(say);
if (problem) {
  say(problem.reason);
  process.exit(problem.status);
}

let prefix = process.env.TEST_KEEPALIVE_PREFIX;
if (!prefix) {
  try {
    prefix = installPacked();
  } catch (error) {
    say(`npm test: cannot pack and install keepalive for the tests: ${error.message}`);
    process.exit(1);
  }
}

const run = `${process.pid}-${randomBytes(4).toString('hex')}`;
const env = {
  ...process.env,
  [RUN_VARIABLE]: run,
  TEST_KEEPALIVE_PREFIX: prefix,
  PATH: `${prefix}/bin:${process.env.PATH}`,
};
// Should this process be killed outright, ava is ended too (and its workers end what they started).
const dieWithRun = ['setpriv', '--pdeathsig', 'TERM', '--'];
const avaCommand = [...dieWithRun, process.execPath, AVA, ...process.argv.slice(2)];
const ava = spawn(avaCommand[0], avaCommand.slice(1), { stdio: 'inherit', env });

/** What of the run still runs: below this process (ava, its workers, theirs), and by the mark. */
const ofRun = () => [
  ...new Set([...processesOfRun(run).map(({ pid }) => pid), ...descendantsOf(process.pid)]),
];

let interrupted;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = signal;
    // ava stops its workers (they end what they started); what is still there in 10 s is killed.
    ava.kill('SIGINT');
    setTimeout(() => endTrees(ofRun()), 10_000).unref();
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const [code] = await new Promise((resolve) => ava.on('exit', (...ended) => resolve(ended)));

// Processes being killed take a moment to go; those still there after that were left behind.
let left = processesOfRun(run);
for (let waited = 0; left.length > 0 && !interrupted && waited < 5_000; waited += 100) {
  await sleep(100);
  left = processesOfRun(run);
}
endTrees(ofRun());
if (interrupted) process.exit(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[interrupted]);
if (left.length > 0) {
  say(`npm test: ${left.length} process(es) of the tests still ran after ava ended (now killed):`);
  for (const { pid, argv } of left) say(`  ${pid} ${argv.join(' ')}`);
  process.exit(1);
}
process.exit(code ?? 1);
