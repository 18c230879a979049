import test from 'ava';
import type { ExitEvent } from '../../src/core/events.js';
import { hookEnvironment } from '../../src/core/hook-env.js';

const event = (outcome: ExitEvent['outcome'], status: number): ExitEvent => ({
  name: 'app',
  pid: 812,
  outcome,
  status,
  uptimeMs: 1234.4,
  next: { action: 'restart', delayMs: 100, restart: 1, planned: false },
});
const time = '2026-12-01T12:00:00.000Z';

test("an exit code, the next step and the log line's words and record", (t) => {
  const env = hookEnvironment(
    { event: event({ kind: 'exited', code: 3 }, 3), restarts: 0, missed: 0, time },
    4321,
  );
  t.like(env, {
    KEEPALIVE_OUTCOME: 'exited',
    KEEPALIVE_STATUS: '3',
    KEEPALIVE_EXIT_CODE: '3',
    KEEPALIVE_NEXT: 'restart',
    KEEPALIVE_MESSAGE: 'app[812] exited with code 3; restart 1 in 100ms',
    KEEPALIVE_NAME: 'app',
    KEEPALIVE_CHILD_PID: '812',
    KEEPALIVE_RESTARTS: '0',
    KEEPALIVE_MISSED: '0',
    KEEPALIVE_PID: '4321',
  });
  t.false('KEEPALIVE_SIGNAL' in env);
  t.deepEqual(JSON.parse(env['KEEPALIVE_EVENT'] as string), {
    time,
    level: 'warn',
    event: 'exit',
    message: 'app[812] exited with code 3; restart 1 in 100ms',
    name: 'app',
    pid: 812,
    outcome: { kind: 'exited', code: 3 },
    status: 3,
    uptimeMs: 1234,
    next: { action: 'restart', delayMs: 100, restart: 1, planned: false },
  });
});

test('a signal, and the one keepalive sent for the memory limit', (t) => {
  t.like(
    hookEnvironment(
      { event: event({ kind: 'killed', signal: 'SIGTERM' }, 143), restarts: 2, missed: 4, time },
      4321,
    ),
    {
      KEEPALIVE_SIGNAL: 'SIGTERM',
      KEEPALIVE_RESTARTS: '2',
      KEEPALIVE_MISSED: '4',
    },
  );
  const over = hookEnvironment(
    {
      event: event(
        {
          kind: 'over-memory',
          signal: 'SIGKILL',
          sent: 'SIGTERM',
          usedBytes: 2e8,
          limitBytes: 1.5e8,
        },
        137,
      ),
      restarts: 0,
      missed: 0,
      time,
    },
    4321,
  );
  t.like(over, {
    KEEPALIVE_OUTCOME: 'over-memory',
    KEEPALIVE_SIGNAL: 'SIGKILL',
    KEEPALIVE_STATUS: '137',
  });
  const caught = hookEnvironment(
    {
      event: event(
        {
          kind: 'hung',
          signal: 'SIGTERM',
          sent: 'SIGTERM',
          exitCode: 0,
          reason: 'trigger',
          silentMs: 0,
          coreDumps: 'unknown',
        },
        143,
      ),
      restarts: 0,
      missed: 0,
      time,
    },
    4321,
  );
  t.is(caught['KEEPALIVE_EXIT_CODE'], '0');
  t.false('KEEPALIVE_SIGNAL' in caught);
});

test('a command that never started has neither a code nor a signal, and no pid', (t) => {
  const env = hookEnvironment(
    {
      event: {
        ...event(
          { kind: 'not-started', reason: 'not-found', errno: 'ENOENT', command: 'nope' },
          127,
        ),
        pid: undefined,
        next: { action: 'end', reason: 'not-started' },
      },
      restarts: 0,
      missed: 0,
      time,
    },
    4321,
  );
  t.like(env, {
    KEEPALIVE_OUTCOME: 'not-started',
    KEEPALIVE_STATUS: '127',
    KEEPALIVE_CHILD_PID: '',
    KEEPALIVE_NEXT: 'end',
  });
  t.false('KEEPALIVE_EXIT_CODE' in env || 'KEEPALIVE_SIGNAL' in env);
});

test('with --output, the lines of output dropped so far; without it, no such variable', (t) => {
  const call = { event: event({ kind: 'exited', code: 0 }, 0), restarts: 0, missed: 0, time };
  t.is(hookEnvironment({ ...call, outputDropped: 1234 }, 1)['KEEPALIVE_OUTPUT_DROPPED'], '1234');
  t.is(hookEnvironment({ ...call, outputDropped: 0 }, 1)['KEEPALIVE_OUTPUT_DROPPED'], '0');
  t.false('KEEPALIVE_OUTPUT_DROPPED' in hookEnvironment(call, 1));
});
