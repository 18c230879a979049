// The API leaves no trace: a program that embedded supervise() is, once it has ended, as it was
// before (no handle, timer, listener, fd or busy thread of keepalive's, not a subreaper), and
// exits on its own. Each scenario runs in a fresh Node process (test/fixtures/api-trace.mjs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { fixture } from '../helpers/keepalive.js';

const BUILD = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIOS = [
  'plain',
  'restarted',
  'leftovers',
  'heartbeat',
  'hang',
  'notify-socket',
  'memory',
  'on-exit',
  'health',
  'handle-signals',
  'subreaper',
];

interface Trace {
  scenario: string;
  status: number;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

for (const scenario of SCENARIOS) {
  test.serial(
    `after supervise() has ended, the embedding program is as it was: ${scenario}`,
    async (t) => {
      const embedder = spawn(process.execPath, [fixture('api-trace.mjs'), BUILD, scenario], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      t.teardown(() => embedder.kill('SIGKILL'));
      let stdout = '';
      let stderr = '';
      embedder.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      embedder.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      // Exiting on its own proves that nothing of keepalive's holds its loop or a pool thread.
      const exited = once(embedder, 'close', { signal: AbortSignal.timeout(40_000) });
      const [code] = (await exited.catch(() => [
        `still running 40 s later; it printed: ${stdout}`,
      ])) as [unknown];
      t.is(code, 0, stderr);
      const trace = JSON.parse(stdout) as Trace;
      t.is(trace.scenario, scenario);
      t.deepEqual(trace.after, trace.before);
    },
  );
}
