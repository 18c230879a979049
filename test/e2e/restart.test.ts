// Restarting end to end: exit codes through keepalive, commands that cannot start, a crash loop
// to give-up, the growing delay.
import test from 'ava';
import { fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';

for (const code of [0, 1, 3, 42, 255]) {
  test(`exit code ${code} passes through keepalive with --restart never`, async (t) => {
    const result = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', `exit ${code}`]);
    t.is(result.status, code);
    t.regex(
      result.stderr,
      new RegExp(`sh\\[\\d+\\] exited with code ${code}; not restarting \\(--restart never\\)`),
    );
  });
}

test('a command that is not found: 127 at once, no retry loop', async (t) => {
  const result = await runKeepalive(['--', 'no-such-command-anywhere']);
  t.is(result.status, 127);
  t.is(
    result.stderr,
    'keepalive: no-such-command-anywhere not started: command not found: no-such-command-anywhere, status 127; check the command and try again\n',
  );
});

test('a command under a path that is not a directory is not found: 127, not an internal error', async (t) => {
  const result = await runKeepalive(['--', `${fixture('crash.js')}/x`]);
  t.is(result.status, 127);
  t.regex(result.stderr, /not started: command not found: .*crash\.js\/x, status 127/);
});

test('a command that is not executable: 126 at once', async (t) => {
  const result = await runKeepalive(['--', fixture('crash.js')]);
  t.is(result.status, 126);
  t.regex(result.stderr, /not started: .*crash\.js is not executable \(EACCES\), status 126/);
});

test('crash loop: --max-restarts 3 --restart-window 10s gives exactly 4 starts, a give-up line, status 1', async (t) => {
  const result = await runKeepalive([
    '--max-restarts',
    '3',
    '--restart-window',
    '10s',
    '--delay',
    '0',
    '--',
    'sh',
    '-c',
    'exit 1',
  ]);
  t.is(result.status, 1);
  t.is(result.lines.filter((line) => / started( \(restart \d+\))?$/.test(line)).length, 4);
  t.regex(
    result.lines.at(-1) ?? '',
    /^keepalive: sh\[\d+\] exited with code 1; giving up: 4 failures in 10s$/,
  );
});

test('a crash is said in words and restarted with a growing delay', async (t) => {
  const keepalive = new Keepalive(
    ['--delay', '50ms', '--', 'node', fixture('crash.js'), 'SIGSEGV'],
    { env: { CRASH_AFTER_MS: '0' } },
  );
  const first = await keepalive.stderr.next(
    /crash\[\d+\] crashed: SIGSEGV \(Segmentation fault\), status 139.*; restart 1 in (\d+)ms$/,
  );
  const second = await keepalive.stderr.next(/crashed: SIGSEGV .*; restart 2 in (\d+)ms$/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.true(Number(first[1]) >= 45 && Number(first[1]) <= 55, first[0]);
  t.true(Number(second[1]) >= 90 && Number(second[1]) <= 110, second[0]);
  t.true(keepalive.stdout.text.includes('restart 1'), 'KEEPALIVE_RESTARTS reaches the child');
});
