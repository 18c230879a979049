// The command line end to end: real keepalive processes, real children, real signals.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, fixture, Keepalive, runKeepalive } from './helpers/keepalive.js';

const usageErrors: Array<[string, string[], string]> = [
  ['no command', [], 'keepalive: no command given; usage: keepalive [options] [--] <command> [args...]'],
  ['only options', ['--delay', '1s', '--'], 'keepalive: no command given; usage: keepalive [options] [--] <command> [args...]'],
  ['an unknown option', ['--frobnicate', '--', 'true'], 'keepalive: unknown option "--frobnicate"; see keepalive --help for the options (put the command after --)'],
  ['an unknown option given with =', ['--frob=1', 'true'], 'keepalive: unknown option "--frob=1"; see keepalive --help for the options (put the command after --)'],
  ['a bare number as a duration', ['--delay', '5', '--', 'true'], 'keepalive: --delay "5": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)'],
  ['a malformed duration', ['--kill-timeout', 'soon', '--', 'true'], 'keepalive: --kill-timeout "soon": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h'],
  ['a duration Node cannot wait for', ['--kill-timeout', '25d', '--', 'true'], 'keepalive: --kill-timeout "25d": expected a duration of at most 24d (Node\'s timers cannot wait longer)'],
  ['a negative count', ['--max-restarts=-1', '--', 'true'], 'keepalive: --max-restarts "-1": expected a whole number of 0 or more, such as 5'],
  ['a negative count after a space', ['--max-restarts', '-1', '--', 'true'], 'keepalive: --max-restarts "-1": expected a whole number of 0 or more, such as 5'],
  ['a negative duration', ['--delay', '-1s', '--', 'true'], 'keepalive: --delay "-1s": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h'],
  ['a fractional count', ['--max-restarts', '2.5', '--', 'true'], 'keepalive: --max-restarts "2.5": expected a whole number of 0 or more, such as 5'],
  ['an unknown signal', ['--stop-signal', 'SIGNOPE', '--', 'true'], 'keepalive: --stop-signal "SIGNOPE": expected a signal name or number, such as SIGTERM, TERM or 15'],
  ['a bad policy word', ['--restart', 'sometimes', '--', 'true'], 'keepalive: --restart "sometimes": expected one of always, on-failure, never'],
  ['a bad success code', ['--success-codes', '0,300', '--', 'true'], 'keepalive: --success-codes "0,300": "300" is neither an exit code (0-255) nor a signal name; use a list such as 0,3,SIGTERM'],
  ['a bad log format', ['--log-format', 'xml', '--', 'true'], 'keepalive: --log-format "xml": expected text or json'],
  ['quiet and verbose', ['-q', '-v', '--', 'true'], 'keepalive: -q/--quiet and -v/--verbose cannot be used together; choose one'],
];
for (const [what, args, message] of usageErrors) {
  test(`bad usage, ${what}: one line, status 2`, async (t) => {
    const result = await runKeepalive(args);
    t.is(result.status, 2);
    t.is(result.stderr, `${message}\n`);
    t.is(result.stdout, '');
  });
}

test('--help is a page a person can use, on stdout, status 0', async (t) => {
  const result = await runKeepalive(['--help']);
  t.is(result.status, 0);
  t.regex(result.stdout, /keepalive \[options\] \[--\] <command> \[args\.\.\.\]/);
  for (const flag of ['--restart', '--delay', '--max-restarts', '--kill-timeout', '--log-format', '--quiet']) {
    t.true(result.stdout.includes(flag), flag);
  }
});

test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await runKeepalive(['--version']);
  t.is(result.status, 0);
  t.is(result.stdout.trim(), pkg.version);
});

test('options after the command belong to the child', async (t) => {
  const result = await runKeepalive(['--restart', 'never', 'sh', '-c', 'echo "$@"', 'sh', '--delay', '5', '-v']);
  t.is(result.status, 0);
  t.is(result.stdout, '--delay 5 -v\n');
});

for (const code of [0, 1, 3, 42, 255]) {
  test(`exit code ${code} passes through keepalive with --restart never`, async (t) => {
    const result = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', `exit ${code}`]);
    t.is(result.status, code);
    t.regex(result.stderr, new RegExp(`sh\\[\\d+\\] exited with code ${code}; not restarting \\(--restart never\\)`));
  });
}

test('a command that is not found: 127 at once, no retry loop', async (t) => {
  const result = await runKeepalive(['--', 'no-such-command-anywhere']);
  t.is(result.status, 127);
  t.is(result.stderr, 'keepalive: no-such-command-anywhere not started: command not found: no-such-command-anywhere, status 127; check the command and try again\n');
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
  const result = await runKeepalive(['--max-restarts', '3', '--restart-window', '10s', '--delay', '0', '--', 'sh', '-c', 'exit 1']);
  t.is(result.status, 1);
  t.is(result.lines.filter((line) => / started( \(restart \d+\))?$/.test(line)).length, 4);
  t.regex(result.lines.at(-1) ?? '', /^keepalive: sh\[\d+\] exited with code 1; giving up: 4 failures in 10s$/);
});

test('a crash is said in words and restarted with a growing delay', async (t) => {
  const keepalive = new Keepalive(['--delay', '50ms', '--', 'node', fixture('crash.js'), 'SIGSEGV'], { env: { CRASH_AFTER_MS: '0' } });
  const first = await keepalive.stderr.next(/crash\[\d+\] crashed: SIGSEGV \(Segmentation fault\), status 139.*; restart 1 in (\d+)ms$/);
  const second = await keepalive.stderr.next(/crashed: SIGSEGV .*; restart 2 in (\d+)ms$/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.true(Number(first[1]) >= 45 && Number(first[1]) <= 55, first[0]);
  t.true(Number(second[1]) >= 90 && Number(second[1]) <= 110, second[0]);
  t.true(keepalive.stdout.text.includes('restart 1'), 'KEEPALIVE_RESTARTS reaches the child');
});

test('SIGTERM to keepalive stops a child that traps it: status 0, no restart', async (t) => {
  const keepalive = new Keepalive(['--', fixture('trap-term.sh')]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 0);
  t.true(keepalive.stdout.all.includes('got TERM'));
  t.regex(keepalive.stderr.text, /SIGTERM received: stopping trap-term\[\d+\] \(SIGKILL after 8s\)/);
  t.regex(keepalive.stderr.all.at(-1) ?? '', /trap-term\[\d+\] exited with code 0; stopped$/);
  t.false(keepalive.stderr.text.includes('restart 1'));
});

test('a child that ignores SIGTERM is SIGKILLed after --kill-timeout: status 137', async (t) => {
  const keepalive = new Keepalive(['--kill-timeout', '300ms', '--', fixture('ignore-stop.sh')]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 137);
  t.regex(keepalive.stderr.text, /ignore-stop\[\d+\] still running \d+ms after SIGTERM: sending SIGKILL/);
  t.regex(keepalive.stderr.all.at(-1) ?? '', /killed: SIGKILL \(Forced termination\), status 137; stopped$/);
});

test('SIGINT to keepalive reaches the child as SIGINT: status 130', async (t) => {
  const keepalive = new Keepalive(['--', 'sleep', '1000']);
  await keepalive.childPid();
  keepalive.signal('SIGINT');
  const ended = await keepalive.ended;
  t.is(ended.status, 130);
  t.regex(keepalive.stderr.text, /killed: SIGINT \(User interruption with CTRL-C\), status 130; stopped/);
});

test('--log-format json: one event object per line with a stable shape', async (t) => {
  const result = await runKeepalive(['--log-format', 'json', '--restart', 'never', '--', 'sh', '-c', 'exit 4']);
  t.is(result.status, 4);
  const events = result.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual(events.map((event) => event['event']), ['spawn', 'exit']);
  for (const event of events) {
    t.is(typeof event['time'], 'string');
    t.is(typeof event['message'], 'string');
    t.is(event['level'], event['event'] === 'exit' ? 'warn' : 'info');
  }
  t.like(events[1], { outcome: { kind: 'exited', code: 4 }, status: 4, next: { action: 'end', reason: 'no-restart' } });
});

test('-q prints only errors; -v adds forwarded signals', async (t) => {
  const quiet = await runKeepalive(['-q', '--restart', 'never', '--', 'sh', '-c', 'exit 4']);
  t.is(quiet.stderr, '');
  const keepalive = new Keepalive(['-v', '--', 'sleep', '1000']);
  await keepalive.childPid();
  keepalive.signal('SIGHUP');
  await keepalive.stderr.next(/killed: SIGHUP/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.regex(keepalive.stderr.text, /SIGHUP forwarded to sleep\[\d+\]/);
});

test('on a real terminal the lines are coloured, unless NO_COLOR is set', async (t) => {
  // Node reads CI=true (set by CI runners) as "no colours": the terminal alone decides here.
  const command = `${process.execPath} ${JSON.stringify(CLI)} --restart never -- sh -c 'exit 3'`;
  const onTerminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, CI: undefined, TERM: 'xterm-256color' } });
  t.is(onTerminal.status, 3);
  t.regex(onTerminal.stdout, /\u001b\[\d+m.*exited with code 3/);
  const noColor = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  t.is(noColor.status, 3);
  t.regex(noColor.stdout, /keepalive: sh\[\d+\] exited with code 3/);
  t.notRegex(noColor.stdout, /\u001b\[/);
});
