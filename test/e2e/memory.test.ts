// --max-memory SIZE: the whole tree's memory is checked every --memory-interval; over the limit the
// child is stopped with --stop-signal and restarted under the restart policy, as over-memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { killMarked, running, uniqueMarker } from '../helpers/proc.js';

/** A Node program that grows by about 100 MB a second, and keeps what it took. */
const GROW = 'const kept = []; setInterval(() => kept.push(Buffer.alloc(10e6, 1)), 100)';

interface Line {
  event: string;
  message: string;
  outcome?: { kind: string; usedBytes: number; limitBytes: number; sent: string; signal: string };
  next?: { action: string };
}
const parsed = (lines: readonly string[]): Line[] => lines.map((line) => JSON.parse(line) as Line);

test('a Node child growing 100 MB/s under --max-memory 150MB is stopped as over-memory and restarted', async (t) => {
  const result = await runKeepalive([
    '--log-format',
    'json',
    '--max-memory',
    '150MB',
    '--delay',
    '0',
    '--max-restarts',
    '1',
    '--',
    'node',
    '-e',
    GROW,
  ]);
  const exits = parsed(result.lines).filter((line) => line.event === 'exit');
  t.is(exits.length, 2, result.stderr);
  t.deepEqual(
    exits.map((exit) => exit.next?.action),
    ['restart', 'give-up'],
  );
  for (const exit of exits) {
    t.like(exit.outcome, {
      kind: 'over-memory',
      limitBytes: 150e6,
      sent: 'SIGTERM',
      signal: 'SIGTERM',
    });
    // Checked every second at 100 MB/s: over the limit, and not by much more than a second's
    // growth.
    t.true(
      (exit.outcome?.usedBytes ?? 0) > 150e6 && (exit.outcome?.usedBytes ?? 0) < 400e6,
      String(exit.outcome?.usedBytes),
    );
    t.regex(
      exit.message,
      /^node\[\d+\] over its memory limit: \d+MB, limit 150MB \(whole tree\), killed with SIGTERM \(Termination\), status 143; /,
    );
  }
  t.is(parsed(result.lines).filter((line) => line.event === 'over-memory').length, 2);
  t.is(result.status, 143);
});

test("memory held by a grandchild counts: the limit is the whole tree's", async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  // sh -> sh -> node: neither shell holds memory, and the node process is not keepalive's child.
  const result = await runKeepalive([
    '--restart',
    'never',
    '--max-memory',
    '100MB',
    '--memory-interval',
    '200ms',
    '--',
    'sh',
    '-c',
    `sh -c "node -e '${GROW}' ${marker}; true"; true`,
  ]);
  t.is(result.status, 143, result.stderr);
  t.regex(
    result.stderr,
    /sh\[\d+\] over its memory limit: \d+MB, limit 100MB \(whole tree\); sending SIGTERM/,
  );
  t.deepEqual(
    running().filter((p) => p.argv.includes(marker)),
    [],
  );
});

test('a child that handles the stop signal and exits by itself says so; SIGKILL follows one that does not', async (t) => {
  const catches = `process.on('SIGTERM', () => process.exit(0)); ${GROW}`;
  const caught = await runKeepalive([
    '--restart',
    'never',
    '--max-memory',
    '80MB',
    '--memory-interval',
    '100ms',
    '--',
    'node',
    '-e',
    catches,
  ]);
  t.regex(
    caught.stderr,
    /over its memory limit: \d+MB, limit 80MB \(whole tree\), stopped with SIGTERM, exited with code 0, status 143/,
  );
  const ignores = `process.on('SIGTERM', () => {}); ${GROW}`;
  const killed = await runKeepalive([
    '--restart',
    'never',
    '--max-memory',
    '80MB',
    '--memory-interval',
    '100ms',
    '--kill-timeout',
    '200ms',
    '--',
    'node',
    '-e',
    ignores,
  ]);
  t.is(killed.status, 137);
  t.regex(
    killed.stderr,
    /over its memory limit: \d+MB, limit 80MB \(whole tree\), SIGTERM did not end it, killed with SIGKILL \(Forced termination\), status 137/,
  );
});

test('--stop-signal is what the memory limit sends', async (t) => {
  const result = await runKeepalive([
    '--restart',
    'never',
    '--stop-signal',
    'SIGINT',
    '--max-memory',
    '80MB',
    '--memory-interval',
    '100ms',
    '--',
    'node',
    '-e',
    GROW,
  ]);
  t.is(result.status, 130);
  t.regex(result.stderr, /; sending SIGINT$/m);
});

test("keepalive status shows the tree's memory and the limit", async (t) => {
  const marker = uniqueMarker();
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-memory-'));
  t.teardown(() => {
    killMarked(marker);
    rmSync(directory, { recursive: true, force: true });
  });
  const pidfile = join(directory, 'app.pid');
  const keepalive = new Keepalive([
    '--pidfile',
    pidfile,
    '--max-memory',
    '1GB',
    '--memory-interval',
    '100ms',
    '--',
    'sleep',
    marker,
  ]);
  await keepalive.childPid();
  let text = '';
  for (let tries = 0; tries < 50 && !/^memory: /m.test(text); tries++)
    text = (await runKeepalive(['status', '--pidfile', pidfile])).stdout;
  t.regex(text, /^memory: \d+(kB|MB) \(whole tree\), limit 1GB$/m);
  const json = JSON.parse(
    (await runKeepalive(['status', '--pidfile', pidfile, '--json'])).stdout,
  ) as { memory: { bytes: number; limitBytes: number } };
  t.is(json.memory.limitBytes, 1e9);
  t.true(json.memory.bytes > 0 && json.memory.bytes < 50e6);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('bad sizes are refused with one line that names the value and the fix', async (t) => {
  for (const [size, words] of [
    [
      '512',
      /--max-memory "512": expected a size with a unit, such as 512MB, 1\.5GB or 800MiB \(did you mean 512MB\?\)/,
    ],
    ['lots', /--max-memory "lots": expected a size with a unit/],
  ] as const) {
    const result = await runKeepalive(['--max-memory', size, '--', 'true']);
    t.is(result.status, 2);
    t.regex(result.stderr, words);
    t.is(result.stderr.trim().split('\n').length, 1);
  }
  const interval = await runKeepalive(['--memory-interval', '1s', '--', 'true']);
  t.regex(interval.stderr, /--memory-interval needs --max-memory/);
});

test('an on-exit hook is not part of the tree: its memory does not count against the child', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  // The hook holds 300 MB for 1.5 s while the child, which holds next to nothing, restarts under
  // it.
  const hook = `node -e 'const b = Buffer.alloc(300e6, 1); setTimeout(() => b.length, 1500)' ${marker}`;
  const result = await runKeepalive([
    '--max-memory',
    '100MB',
    '--memory-interval',
    '50ms',
    '--delay',
    '300ms',
    '--max-restarts',
    '3',
    '--on-exit',
    hook,
    '--',
    'sh',
    '-c',
    'sleep 0.3; exit 1',
  ]);
  t.is(result.status, 1, result.stderr);
  t.false(result.stderr.includes('over its memory limit'), result.stderr);
  t.is(result.lines.filter((line) => line.includes('exited with code 1')).length, 4);
});
