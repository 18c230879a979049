import test from 'ava';
import { readCommandLine, type CliSettings } from '../src/cli-options.js';
import { UsageError } from '../src/options.js';

function read(...flags: string[]): CliSettings {
  const line = readCommandLine([...flags, '--', 'x']);
  if (line.kind !== 'run') throw new Error(`not a run: ${line.kind}`);
  return line;
}

test('CLI values are read and typed, with messages naming flag, value and what is accepted', (t) => {
  t.is(read('--delay', '1.5s').supervise.delay, 1500);
  t.is(read('--max-restarts', '3').supervise.maxRestarts, 3);
  t.is(read('--stop-signal', 'int').supervise.stopSignal, 'SIGINT');
  t.is(read('--restart', 'on-failure').supervise.restart, 'on-failure');
  t.like(read('--success-codes', '0, 3,SIGTERM').supervise, {
    successCodes: [0, 3],
    successSignals: ['SIGTERM'],
  });
  const error = t.throws(() => read('--max-restarts', '-1'), { instanceOf: UsageError });
  t.is(error?.message, '--max-restarts "-1": expected a whole number of 0 or more, such as 5');
  t.throws(() => read('--success-codes', '0,256'), { message: /"256" is neither an exit code/ });
});

test('only what was typed goes to supervise(); the resolved options have every default', (t) => {
  const settings = read('--kill-timeout', '2s');
  t.deepEqual(settings.supervise, {
    command: 'x',
    args: [],
    handleSignals: true,
    subreaper: true,
    notifyAccess: 'all',
    killTimeout: 2000,
  });
  t.is(settings.options.killTimeout, 2000);
  t.is(settings.options.stopSignal, 'SIGTERM');
  t.is(settings.options.name, 'x');
  t.like(read().options, { killTimeout: 8000, delay: 100 });
  // The CLI's own defaults where the API's differ: a subreaper, and a notify socket for every
  // child.
  t.like(read().options.heart, { notifyAccess: 'all' });
  t.is(read('--notify-access', 'main').options.heart.notifyAccess, 'main');
});

test('a problem found by resolveOptions is said with the flag and the text as typed', (t) => {
  t.throws(() => read('--heartbeat-grace', '10s'), {
    message: '--heartbeat-grace needs --heartbeat: there is no first heartbeat to wait for',
  });
  t.throws(() => read('--delay', '2s', '--max-delay', '1s'), {
    message: '--max-delay "1s" is shorter than --delay "2s"; make --max-delay at least --delay',
  });
  t.throws(() => read('--health-cmd', 'true', '--health-retries', '0'), {
    message: '--health-retries "0": expected a whole number of 1 or more, such as 3',
  });
});
