import test from 'ava';
import { OPTIONS } from '../src/option-table.js';
import {
  checkOptions,
  DEFAULTS,
  defaultName,
  OptionError,
  resolveOptions,
  UsageError,
} from '../src/options.js';

test('the default name is the script, not the interpreter', (t) => {
  t.is(defaultName('node', ['app.js']), 'app');
  t.is(defaultName('node', ['--enable-source-maps', 'dist/server.mjs']), 'server');
  t.is(defaultName('./worker.sh', []), 'worker');
  t.is(defaultName('/usr/sbin/nginx', ['-g', 'daemon off;']), 'nginx');
  t.is(defaultName('sh', ['-c', 'echo hi; exit 3']), 'sh');
  t.is(defaultName('node', ['-e', 'process.exit(1)']), 'node');
  t.is(defaultName('python3', []), 'python3');
});

test('resolveOptions fills defaults and rejects what an API caller got wrong', (t) => {
  const resolved = resolveOptions({ command: 'node', args: ['app.js'] });
  t.is(resolved.name, 'app');
  t.is(resolved.policy.delayMs, 100);
  t.is(resolved.policy.maxRestarts, Number.POSITIVE_INFINITY);
  t.false(resolved.handleSignals);
  t.throws(() => resolveOptions({ command: '' }), { instanceOf: UsageError });
  t.throws(() => resolveOptions({ command: 'x', delay: -1 }), {
    message:
      "delay: -1 is not allowed; use a duration from 0 to 2147483647 ms (about 24.8 days, what Node's timers can wait for)",
  });
  t.throws(() => resolveOptions({ command: 'x', restart: 'sometimes' as never }), {
    message: /use one of always, on-failure, never/,
  });
});

test('every default comes from the option table', (t) => {
  const resolved = resolveOptions({ command: 'x', healthCmd: 'true' });
  t.is(resolved.killTimeout, OPTIONS.killTimeout.default);
  t.is(resolved.stopSignal, OPTIONS.stopSignal.default);
  t.is(resolved.policy.maxDelayMs, OPTIONS.maxDelay.default);
  t.is(resolved.heart.notifyFd, OPTIONS.notifyFd.default);
  t.is(resolved.heart.health?.retries, OPTIONS.healthRetries.default);
  t.is(DEFAULTS.killTimeout, 8000);
});

test('a max delay below the delay is refused, naming both; a delay alone above the default max keeps it', (t) => {
  const error = t.throws(() => resolveOptions({ command: 'x', delay: 2000, maxDelay: 1000 }), {
    instanceOf: OptionError,
  });
  t.is(error?.message, 'maxDelay 1000 is shorter than delay 2000; make maxDelay at least delay');
  t.deepEqual(error?.problem, {
    kind: 'order',
    low: 'delay',
    high: 'maxDelay',
    values: [2000, 1000],
  });
  t.is(resolveOptions({ command: 'x', delay: 40_000 }).policy.maxDelayMs, 40_000);
  t.is(resolveOptions({ command: 'x', delay: 1000, maxDelay: 1000 }).policy.maxDelayMs, 1000);
});

test('problems carry the option key, so that the CLI can name the flag', (t) => {
  const value = t.throws(
    () => resolveOptions({ command: 'x', healthCmd: 'true', healthRetries: 0 }),
    { instanceOf: OptionError },
  );
  t.deepEqual(value?.problem, { kind: 'value', key: 'healthRetries', value: 0 });
  const needs = t.throws(() => checkOptions({ detach: true }), { instanceOf: OptionError });
  t.like(needs?.problem, { kind: 'needs', key: 'detach', needs: ['pidfile'] });
  t.notThrows(() => checkOptions({ detach: true, pidfile: 'x.pid' }));
  t.throws(() => checkOptions({ quiet: true, verbose: true }), {
    message: 'quiet and verbose cannot be used together; choose one',
  });
  t.throws(() => resolveOptions({ command: 'x', successCodes: [256] }), {
    message: 'successCodes: [256] is not allowed; use exit codes from 0 to 255',
  });
  t.throws(() => resolveOptions({ command: 'x', successSignals: ['SIGNOPE' as never] }), {
    message: 'successSignals: ["SIGNOPE"] is not allowed; use a list of signal names',
  });
  t.throws(() => resolveOptions({ command: 'x', maxRestarts: 2.5 }), {
    message: 'maxRestarts: 2.5 is not allowed; use a whole number of 0 or more',
  });
});

test('onExit is a command or a function; maxMemory is bytes; their companions need them', (t) => {
  t.is(resolveOptions({ command: 'x', onExit: './notify.sh' }).onExitTimeout, 10_000);
  const hook = (): void => {};
  t.is(resolveOptions({ command: 'x', onExit: hook }).onExit, hook);
  t.throws(() => resolveOptions({ command: 'x', onExit: ' ' }), {
    message: /^onExit: " " is not allowed; use a shell command \(or, from the API, a function\)$/,
  });
  t.throws(() => resolveOptions({ command: 'x', onExitTimeout: 1000 }), {
    message: 'onExitTimeout needs onExit',
  });
  t.like(resolveOptions({ command: 'x', maxMemory: 150e6 }), {
    maxMemory: 150e6,
    memoryInterval: 1000,
  });
  t.is(resolveOptions({ command: 'x' }).maxMemory, undefined);
  t.throws(() => resolveOptions({ command: 'x', maxMemory: '512MB' as never }), {
    message: 'maxMemory: "512MB" is not allowed; use a whole number of bytes above 0',
  });
  t.throws(() => resolveOptions({ command: 'x', memoryInterval: 500 }), {
    message: 'memoryInterval needs maxMemory',
  });
});

test('an unknown --user is refused by resolveOptions, named by its key, before anything starts', (t) => {
  t.throws(() => resolveOptions({ command: 'true', user: 'no-such-user-of-keepalive' }), {
    instanceOf: UsageError,
    message: 'user "no-such-user-of-keepalive": no such user in the password database',
  });
});
