// The process tree, end to end: each stop signal reaches each process once, a restart waits until
// the last run is gone, nothing of the tree outlives a stop in any session, and every exit is told
// from the kernel's own wait status (real-time signals, core dumps), with the bytes passed as
// given.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CLI, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { eventually, killMarked, running, uniqueMarker } from '../helpers/proc.js';

/** Live processes with the marker as an argument of its own (zombies excluded): the workers. */
const marked = (marker: string): number[] =>
  running()
    .filter((process_) => process_.argv.includes(marker))
    .map((process_) => process_.pid);

test('the stop signal reaches each process once: sh -c "app; echo after" (Docker CMD, npm scripts)', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  // The app counts the SIGTERMs it gets and lingers 600 ms after the first, long enough for a
  // second.
  const app =
    "let n = 0; process.on('SIGTERM', () => { console.log('got SIGTERM ' + ++n); setTimeout(() => process.exit(0), 600); }); console.log('ready'); setInterval(() => {}, 1e6);";
  const keepalive = new Keepalive(['--', 'sh', '-c', `node -e "${app}" ${marker}; echo after`]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(
    keepalive.stdout.all.filter((line) => line.startsWith('got SIGTERM')).length,
    1,
    keepalive.stdout.text,
  );
  t.true([0, 143].includes(ended.status ?? -1));
  t.deepEqual(marked(marker), []);
});

test('what is left after the kill timeout is SIGKILLed, and the log names it', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-sweep-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  // The leader exits only once the worker ignores SIGTERM.
  const script = `(trap "" TERM; touch ${directory}/armed; exec sleep ${marker}) & while [ ! -e ${directory}/armed ]; do sleep 0.01; done; exit 3`;
  const result = await runKeepalive([
    '--restart',
    'never',
    '--kill-timeout',
    '300ms',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.is(result.status, 3);
  t.regex(
    result.stderr,
    /left 1 process behind \(sleep\[\d+\]\): keepalive ends once they do \(SIGTERM sent, SIGKILL in \d+ms\)/,
  );
  t.regex(result.stderr, /killed what sh\[\d+\] left behind with SIGKILL: sleep\[\d+\]/);
  t.deepEqual(marked(marker), []);
});

test('a restart waits until the old tree is empty: never two workers at once, and the log says why', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  // The leader exits at once; its worker ignores SIGTERM, so only SIGKILL after --kill-timeout ends
  // it.
  const keepalive = new Keepalive([
    '--delay',
    '0',
    '--kill-timeout',
    '700ms',
    '--max-restarts',
    '3',
    '--',
    'sh',
    '-c',
    `(trap "" TERM; exec sleep ${marker}) & sleep 0.1; exit 1`,
  ]);
  let most = 0;
  const sampler = setInterval(() => (most = Math.max(most, marked(marker).length)), 5);
  const ended = await keepalive.ended;
  clearInterval(sampler);
  t.is(ended.status, 1);
  t.is(most, 1, keepalive.stderr.text);
  t.regex(
    keepalive.stderr.text,
    /left 1 process behind \(sleep\[\d+\]\): the restart waits until they end/,
  );
  t.is(keepalive.stderr.all.filter((line) => line.includes('started')).length, 4);
});

test('no descendant outlives a stop, in any session: setsid sleep survives no more', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const keepalive = new Keepalive([
    '--kill-timeout',
    '2s',
    '--',
    'sh',
    '-c',
    `setsid sleep ${marker} & exec sleep ${marker}`,
  ]);
  await keepalive.childPid();
  await eventually('both sleeps to run', () => marked(marker).length === 2);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
  t.deepEqual(marked(marker), []);
});

test('a subreaper by inheritance reaps: an exit does not stall for the kill timeout', async (t) => {
  // A parent sets PR_SET_CHILD_SUBREAPER (36) and execs keepalive, which is told not to become one.
  const python =
    'import ctypes, os, sys; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])';
  const started = performance.now();
  const inherited = await runWith([
    '/usr/bin/python3',
    '-c',
    python,
    process.execPath,
    CLI,
    '-v',
    '--no-subreaper',
    '--kill-timeout',
    '1m',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'sleep 0.1 & exit 0',
  ]);
  t.is(inherited.status, 0);
  t.regex(inherited.stderr, /reaped orphan \d+/);
  t.true(
    performance.now() - started < 30_000,
    `took ${Math.round(performance.now() - started)}ms (the kill timeout is 1m)`,
  );
});

test('a real-time signal is told by name with its status: SIGRTMIN+5 is 167', async (t) => {
  const result = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', 'kill -s RTMIN+5 $$']);
  t.is(result.status, 167);
  t.regex(result.stderr, /killed: SIGRTMIN\+5 \(.*\), status 167; not restarting/);
});

test('a crash that dumped core says "core dumped", from the wait status', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-core-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const result = await runWith(
    [
      process.execPath,
      CLI,
      '--restart',
      'never',
      '--',
      'sh',
      '-c',
      'ulimit -c unlimited; exec sh -c "kill -s SEGV \\$\\$"',
    ],
    directory,
  );
  t.is(result.status, 139);
  t.regex(result.stderr, /crashed: SIGSEGV \(Segmentation fault\), status 139, core dumped/);
  t.true(readdirSync(directory).some((name) => name.startsWith('core')));
});

test('words after a stop: an unhealthy child that traps SIGTERM and exits 0', async (t) => {
  const result = await runKeepalive([
    '--restart',
    'never',
    '--health-cmd',
    'false',
    '--health-interval',
    '200ms',
    '--health-retries',
    '1',
    '--',
    'sh',
    '-c',
    'trap "exit 0" TERM; while :; do sleep 0.05; done',
  ]);
  t.regex(
    result.stderr,
    /unhealthy: health check failed, stopped with SIGTERM, exited with code 0, status 143/,
  );
  t.is(result.status, 143);
});

test('arguments and environment pass through byte for byte', async (t) => {
  const result = await runWith(
    [
      'sh',
      '-c',
      `exec "${process.execPath}" "${CLI}" --restart never -- sh -c 'printf %s "$1$X" | od -An -tx1' sh "$(printf '\\377\\376abc')"`,
    ],
    undefined,
    { X: 'x' },
  );
  t.is(result.status, 0);
  t.is(result.stdout.trim().replace(/\s+/g, ' '), 'ff fe 61 62 63 78');
  const environment = await runWith([
    'sh',
    '-c',
    `X="$(printf 'a\\377b')" exec "${process.execPath}" "${CLI}" --restart never -- sh -c 'printf %s "$X" | od -An -tx1'`,
  ]);
  t.is(environment.stdout.trim().replace(/\s+/g, ' '), '61 ff 62');
});

test('a script whose #! interpreter is missing says so: 127', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-shebang-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const script = join(directory, 'job.sh');
  writeFileSync(script, '#!/no/such/interpreter\necho hi\n', { mode: 0o755 });
  const result = await runKeepalive(['--', script]);
  t.is(result.status, 127);
  t.regex(
    result.stderr,
    /names the interpreter \/no\/such\/interpreter in its #! line, and that is not found, status 127/,
  );
});

/** Runs a command line to its end, with its output. */
async function runWith(
  argv: readonly string[],
  cwd?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const [program, ...args] = argv as [string, ...string[]];
  const child = spawn(program, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stdout, stderr };
}
