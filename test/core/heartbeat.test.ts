// Deadline arithmetic on a fake clock: the numbers are monotonic milliseconds.
import test from 'ava';
import fc from 'fast-check';
import {
  hangAt,
  observe,
  startWatch,
  type WatchdogConfig,
  type WatchState,
} from '../../src/core/heartbeat.js';
import type { NotifyMessage } from '../../src/core/notify.js';

const config: WatchdogConfig = { timeoutMs: 1000, graceMs: 5000, stopTimeoutMs: 8000 };
const beat: NotifyMessage = { kind: 'beat' };

function feed(state: WatchState, ...steps: Array<[number, NotifyMessage]>): WatchState {
  return steps.reduce((current, [at, message]) => observe(config, current, message, at), state);
}

test('off without a timeout: never hung, whatever the silence', (t) => {
  const state = startWatch({ ...config, timeoutMs: undefined }, 0);
  t.is(state.deadline, undefined);
  t.is(hangAt(state, 1e9), undefined);
  t.is(hangAt(feed(state, [10, beat]), 1e9), undefined);
});

test('the first beat is due within the grace, the next ones within the timeout', (t) => {
  const state = startWatch(config, 100);
  t.is(state.deadline, 5100);
  t.is(hangAt(state, 5099), undefined);
  t.deepEqual(hangAt(state, 5100), { reason: 'no-heartbeat', silentMs: 5000 });
  const beaten = feed(state, [3000, beat]);
  t.is(beaten.deadline, 4000);
  t.deepEqual(hangAt(beaten, 4250), { reason: 'no-heartbeat', silentMs: 1250 });
});

test('READY=1 is a beat and is remembered once', (t) => {
  const state = feed(startWatch(config, 0), [200, { kind: 'ready' }], [700, { kind: 'ready' }]);
  t.is(state.readyAt, 200);
  t.is(state.deadline, 1700);
});

test('WATCHDOG_USEC sets a new timeout from now; 0 switches the watchdog off', (t) => {
  const shorter = feed(startWatch(config, 0), [100, { kind: 'set-timeout', ms: 250 }]);
  t.is(shorter.deadline, 350);
  t.is(feed(shorter, [300, beat]).deadline, 550);
  const off = feed(shorter, [200, { kind: 'set-timeout', ms: 0 }]);
  t.is(off.deadline, undefined);
  t.is(hangAt(feed(off, [300, beat]), 1e9), undefined);
  // A child may also turn the watchdog on by itself, as with systemd.
  const on = feed(startWatch({ ...config, timeoutMs: undefined }, 0), [
    50,
    { kind: 'set-timeout', ms: 400 },
  ]);
  t.is(on.deadline, 450);
});

test('EXTEND_TIMEOUT_USEC moves the deadline later once, never earlier', (t) => {
  const extended = feed(startWatch(config, 0), [500, beat], [600, { kind: 'extend', ms: 10_000 }]);
  t.is(extended.deadline, 10_600);
  t.is(hangAt(extended, 9000), undefined);
  t.is(feed(extended, [700, { kind: 'extend', ms: 10 }]).deadline, 10_600);
  // The next beat brings the usual timeout back.
  t.is(feed(extended, [2000, beat]).deadline, 3000);
  t.is(
    feed(startWatch({ ...config, timeoutMs: undefined }, 0), [1, { kind: 'extend', ms: 5 }])
      .deadline,
    undefined,
  );
});

test('STOPPING=1: beats are no longer due, but the child must be gone within the stop timeout', (t) => {
  const stopping = feed(
    startWatch(config, 0),
    [500, beat],
    [1000, { kind: 'stopping' }],
    [1500, beat],
  );
  t.is(stopping.deadline, 9000);
  t.is(hangAt(stopping, 8999), undefined);
  t.deepEqual(hangAt(stopping, 9000), { reason: 'stop-timeout', silentMs: 8000 });
  t.is(feed(stopping, [2000, { kind: 'extend', ms: 20_000 }]).deadline, 22_000);
});

test('WATCHDOG=trigger is a hang at once, and later beats do not undo it', (t) => {
  const triggered = feed(
    startWatch(config, 0),
    [400, { kind: 'trigger' }],
    [401, beat],
    [402, { kind: 'set-timeout', ms: 0 }],
  );
  t.deepEqual(hangAt(triggered, 402), { reason: 'trigger', silentMs: 402 });
});

test('status, unknown keys and dropped lines change nothing', (t) => {
  const state = startWatch(config, 0);
  for (const message of [
    { kind: 'status', text: 'x' },
    { kind: 'ignored' },
    { kind: 'dropped', why: 'not-utf8' },
  ] as const) {
    t.is(observe(config, state, message, 4000), state);
  }
});

test('property: a child beating at least once per timeout is never hung; one that stops is, exactly on time', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 999 }), { maxLength: 200 }),
      fc.integer({ min: 0, max: 4999 }),
      (gaps, first) => {
        let now = first;
        let state = observe(config, startWatch(config, 0), beat, now);
        for (const gap of gaps) {
          now += gap;
          if (hangAt(state, now) !== undefined) return false;
          state = observe(config, state, beat, now);
        }
        return (
          hangAt(state, now + 999) === undefined && hangAt(state, now + 1000)?.silentMs === 1000
        );
      },
    ),
  );
  t.pass();
});
