// The heartbeat and health-check flags: every bad value is one line naming flag, value and what is accepted.
import test from 'ava';
import { resolveOptions } from '../src/options.js';
import { runKeepalive } from './helpers/keepalive.js';

const usageErrors: Array<[string[], string]> = [
  [['--heartbeat', '5'], '--heartbeat "5": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)'],
  [['--heartbeat', '0'], '--heartbeat "0": expected a duration above 0, such as 5s'],
  [['--heartbeat', 'often'], '--heartbeat "often": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h'],
  [['--heartbeat-grace', '10s'], '--heartbeat-grace needs --heartbeat: there is no first heartbeat to wait for'],
  [['--heartbeat', '1s', '--heartbeat-grace', 'later'], '--heartbeat-grace "later": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h'],
  [['--hang-signal', 'SIGNOPE'], '--hang-signal "SIGNOPE": expected a signal name or number, such as SIGTERM, TERM or 15'],
  [['--notify-fd', '2'], '--notify-fd "2": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)'],
  [['--notify-fd', 'three'], '--notify-fd "three": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)'],
  [['--notify-fd', '256'], '--notify-fd "256": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)'],
  [['--health-url', 'localhost:8080'], '--health-url "localhost:8080": expected an http:// or https:// URL, such as http://localhost:8080/health'],
  [['--health-url', 'ftp://example.com/'], '--health-url "ftp://example.com/": expected an http:// or https:// URL, such as http://localhost:8080/health'],
  [['--health-cmd', ''], '--health-cmd "": expected a shell command, such as "curl -fs localhost:8080"'],
  [['--health-url', 'http://x/', '--health-cmd', 'true'], '--health-url and --health-cmd cannot be used together; choose one'],
  [['--health-interval', '5s'], '--health-interval needs --health-url or --health-cmd'],
  [['--health-retries', '5'], '--health-retries needs --health-url or --health-cmd'],
  [['--health-cmd', 'true', '--health-interval', '0'], '--health-interval "0": expected a duration above 0, such as 5s'],
  [['--health-cmd', 'true', '--health-timeout', '3'], '--health-timeout "3": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 3s or 3ms?)'],
  [['--health-cmd', 'true', '--health-retries', '0'], '--health-retries "0": expected a whole number of 1 or more, such as 3'],
  [['--health-cmd', 'true', '--health-retries', 'x'], '--health-retries "x": expected a whole number of 1 or more, such as 3'],
  [['--health-cmd', 'true', '--health-start-period=-1s'], '--health-start-period "-1s": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h'],
];
for (const [args, message] of usageErrors) {
  test(`bad usage: ${args.join(' ')}`, async (t) => {
    const result = await runKeepalive([...args, '--', 'true']);
    t.is(result.status, 2);
    t.is(result.stderr, `keepalive: ${message}\n`);
    t.is(result.stdout, '');
  });
}

test('--help lists the heartbeat and health-check flags', async (t) => {
  const result = await runKeepalive(['--help']);
  for (const flag of ['--heartbeat ', '--heartbeat-grace', '--hang-signal', '--notify-fd', '--health-url', '--health-cmd', '--health-interval', '--health-timeout', '--health-retries', '--health-start-period']) {
    t.true(result.stdout.includes(flag), flag);
  }
});

test('API options: defaults as Docker and heart have them, and checks that name the option', (t) => {
  const plain = resolveOptions({ command: 'x' }).heart;
  t.deepEqual(plain, { heartbeat: undefined, heartbeatGrace: 0, hangSignal: 'SIGKILL', notifyFd: 3, health: undefined });
  const full = resolveOptions({ command: 'x', heartbeat: 5000, healthUrl: 'http://localhost:1/' }).heart;
  t.is(full.heartbeatGrace, 5000);
  t.deepEqual(full.health, { probe: { kind: 'url', url: 'http://localhost:1/' }, intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 });
  t.like(resolveOptions({ command: 'x', healthCmd: 'true', healthRetries: 1 }).heart.health, { probe: { kind: 'command', command: 'true' }, retries: 1 });
  t.throws(() => resolveOptions({ command: 'x', heartbeat: 0 }), { message: 'heartbeat: 0 is not allowed; use a duration above 0' });
  t.throws(() => resolveOptions({ command: 'x', heartbeatGrace: 10 }), { message: 'heartbeatGrace needs heartbeat: there is no first heartbeat to wait for' });
  t.throws(() => resolveOptions({ command: 'x', notifyFd: 1 }), { message: "notifyFd: 1 is not allowed; use a file descriptor from 3 to 255 (0-2 are the child's stdin, stdout and stderr)" });
  t.throws(() => resolveOptions({ command: 'x', healthInterval: 10 }), { message: 'healthInterval needs healthUrl or healthCmd' });
  t.throws(() => resolveOptions({ command: 'x', healthUrl: 'nope' }), { message: 'healthUrl: "nope" is not allowed; use an http:// or https:// URL' });
  t.throws(() => resolveOptions({ command: 'x', healthCmd: 'true', healthRetries: 0 }), { message: 'healthRetries: 0 is not allowed; use a whole number of 1 or more' });
  t.throws(() => resolveOptions({ command: 'x', healthCmd: 'a', healthUrl: 'http://b/' }), { message: 'healthUrl and healthCmd cannot be used together; choose one' });
});
