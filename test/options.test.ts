import test from 'ava';
import { cliCount, cliDuration, cliRestartMode, cliSignal, cliSuccessCodes, defaultName, resolveOptions, UsageError } from '../src/options.js';

test('the default name is the script, not the interpreter', (t) => {
  t.is(defaultName('node', ['app.js']), 'app');
  t.is(defaultName('node', ['--enable-source-maps', 'dist/server.mjs']), 'server');
  t.is(defaultName('./worker.sh', []), 'worker');
  t.is(defaultName('/usr/sbin/nginx', ['-g', 'daemon off;']), 'nginx');
  t.is(defaultName('sh', ['-c', 'echo hi; exit 3']), 'sh');
  t.is(defaultName('node', ['-e', 'process.exit(1)']), 'node');
  t.is(defaultName('python3', []), 'python3');
});

test('CLI values are checked and typed, with messages naming flag, value and what is accepted', (t) => {
  t.is(cliDuration('--delay', '1.5s'), 1500);
  t.is(cliCount('--max-restarts', '3'), 3);
  t.is(cliSignal('--stop-signal', 'int'), 'SIGINT');
  t.is(cliRestartMode('--restart', 'on-failure'), 'on-failure');
  t.deepEqual(cliSuccessCodes('--success-codes', '0, 3,SIGTERM'), { codes: [0, 3], signals: ['SIGTERM'] });
  const error = t.throws(() => cliCount('--max-restarts', '-1'), { instanceOf: UsageError });
  t.is(error?.message, '--max-restarts "-1": expected a whole number of 0 or more, such as 5');
  t.throws(() => cliSuccessCodes('--success-codes', '0,256'), { message: /"256" is neither an exit code/ });
});

test('resolveOptions fills defaults and rejects what an API caller got wrong', (t) => {
  const resolved = resolveOptions({ command: 'node', args: ['app.js'] });
  t.is(resolved.name, 'app');
  t.is(resolved.policy.delayMs, 100);
  t.is(resolved.policy.maxRestarts, Number.POSITIVE_INFINITY);
  t.false(resolved.handleSignals);
  t.throws(() => resolveOptions({ command: '' }), { instanceOf: UsageError });
  t.throws(() => resolveOptions({ command: 'x', delay: -1 }), { message: 'delay: -1 is not allowed; use a number of 0 or more' });
  t.throws(() => resolveOptions({ command: 'x', restart: 'sometimes' as never }), { message: /use always, on-failure or never/ });
});
