import test from 'ava';
import type { Outcome } from '../../src/core/exit.js';
import {
  decide,
  NO_HISTORY,
  repeatedStop,
  type Decision,
  type History,
  type PolicyConfig,
  type RunFacts,
} from '../../src/core/policy.js';

const config: PolicyConfig = {
  restart: 'always',
  successCodes: [0],
  successSignals: [],
  delayMs: 100,
  maxDelayMs: 30_000,
  jitter: 0.1,
  resetAfterMs: 30_000,
  maxRestarts: Number.POSITIVE_INFINITY,
  windowMs: 60_000,
};
const failed: Outcome = { kind: 'exited', code: 1 };
const run = (overrides: Partial<RunFacts> = {}): RunFacts => ({
  outcome: failed,
  startedAt: 0,
  now: 10,
  stopping: false,
  firstRun: false,
  random: 0.5,
  ...overrides,
});

/** Ends `count` quick runs one second apart, returning every decision. */
function loop(policy: PolicyConfig, count: number, outcome: Outcome = failed): Decision[] {
  let history: History = NO_HISTORY;
  const decisions: Decision[] = [];
  for (let i = 0; i < count; i++) {
    const decision = decide(
      policy,
      history,
      run({ outcome, startedAt: i * 1000, now: i * 1000 + 10, firstRun: i === 0 }),
    );
    decisions.push(decision);
    if (decision.action !== 'restart') break;
    history = decision.history;
  }
  return decisions;
}

test('always restarts with growing delays', (t) => {
  const delays = loop(config, 5).map((decision) =>
    decision.action === 'restart' ? decision.delayMs : -1,
  );
  t.deepEqual(delays, [100, 200, 400, 800, 1600]);
});

test('always restarts even after exit 0', (t) => {
  t.like(decide(config, NO_HISTORY, run({ outcome: { kind: 'exited', code: 0 } })), {
    action: 'restart',
    restart: 1,
  });
});

test("never ends with the child's status", (t) => {
  t.deepEqual(
    decide(
      { ...config, restart: 'never' },
      NO_HISTORY,
      run({ outcome: { kind: 'exited', code: 7 } }),
    ),
    {
      action: 'end',
      status: 7,
      reason: 'no-restart',
    },
  );
});

test('on-failure ends on a success code or signal and restarts on anything else', (t) => {
  const onFailure = {
    ...config,
    restart: 'on-failure' as const,
    successCodes: [0, 3],
    successSignals: ['SIGTERM' as const],
  };
  t.like(decide(onFailure, NO_HISTORY, run({ outcome: { kind: 'exited', code: 3 } })), {
    action: 'end',
    status: 3,
    reason: 'success',
  });
  t.like(decide(onFailure, NO_HISTORY, run({ outcome: { kind: 'killed', signal: 'SIGTERM' } })), {
    action: 'end',
    status: 143,
  });
  t.like(decide(onFailure, NO_HISTORY, run({ outcome: { kind: 'killed', signal: 'SIGKILL' } })), {
    action: 'restart',
  });
  t.like(decide(onFailure, NO_HISTORY, run({ outcome: { kind: 'exited', code: 1 } })), {
    action: 'restart',
  });
});

test('a stop ends without restarting, whatever the policy', (t) => {
  t.deepEqual(
    decide(
      config,
      NO_HISTORY,
      run({ stopping: true, outcome: { kind: 'killed', signal: 'SIGTERM' } }),
    ),
    {
      action: 'end',
      status: 143,
      reason: 'stopped',
    },
  );
});

test('a first start that fails is a usage mistake; a later one backs off', (t) => {
  const notFound: Outcome = {
    kind: 'not-started',
    reason: 'not-found',
    errno: 'ENOENT',
    command: 'x',
  };
  t.deepEqual(decide(config, NO_HISTORY, run({ outcome: notFound, firstRun: true })), {
    action: 'end',
    status: 127,
    reason: 'not-started',
  });
  t.like(decide(config, NO_HISTORY, run({ outcome: notFound, firstRun: false })), {
    action: 'restart',
  });
});

test('a stable run resets the backoff: --reset-after of uptime, counted from READY=1 when sent', (t) => {
  const history: History = { streak: 6, recentEnds: [], restarts: 6 };
  t.like(decide(config, history, run({ startedAt: 0, now: 29_999 })), {
    action: 'restart',
    delayMs: 6400,
  });
  t.like(decide(config, history, run({ startedAt: 0, now: 30_000 })), {
    action: 'restart',
    delayMs: 100,
    restart: 7,
  });
  // Ready, then dead at once: not stable, the delay keeps growing.
  t.like(decide(config, history, run({ startedAt: 0, now: 50, readyAt: 20 })), {
    action: 'restart',
    delayMs: 6400,
  });
  t.like(decide(config, history, run({ startedAt: 0, now: 30_019, readyAt: 20 })), {
    action: 'restart',
    delayMs: 6400,
  });
  t.like(decide(config, history, run({ startedAt: 0, now: 30_020, readyAt: 20 })), {
    action: 'restart',
    delayMs: 100,
  });
});

test('max-restarts N in the window: N restarts, then give up on failure N+1', (t) => {
  const limited = { ...config, maxRestarts: 3, windowMs: 10_000 };
  const decisions = loop(limited, 10);
  t.deepEqual(
    decisions.map((decision) => decision.action),
    ['restart', 'restart', 'restart', 'give-up'],
  );
  t.deepEqual(decisions[3], { action: 'give-up', status: 1, failures: 4, windowMs: 10_000 });
});

test('the window slides: failures spread wider than the window never give up', (t) => {
  const limited = { ...config, maxRestarts: 2, windowMs: 1500 };
  const decisions = loop(limited, 50); // one failure a second: at most 2 in any 1.5s window
  t.is(decisions.length, 50);
  t.true(decisions.every((decision) => decision.action === 'restart'));
});

test('max-restarts 0 gives up on the first failure', (t) => {
  t.like(decide({ ...config, maxRestarts: 0 }, NO_HISTORY, run()), {
    action: 'give-up',
    failures: 1,
  });
});

test('history stays bounded however many restarts there were', (t) => {
  let history: History = NO_HISTORY;
  for (let i = 0; i < 10_000; i++) {
    const decision = decide(
      { ...config, maxRestarts: 5, windowMs: 100 },
      history,
      run({ startedAt: i * 1000, now: i * 1000 + 10 }),
    );
    if (decision.action !== 'restart') return t.fail(`gave up at ${i}`);
    history = decision.history;
  }
  t.true(history.recentEnds.length <= 6);
  t.is(history.restarts, 10_000);
  t.is(decide(config, { streak: 1e6, recentEnds: [], restarts: 1e6 }, run()).action, 'restart');
});

test('under always a clean exit is restarted but is no failure: it never makes keepalive give up', (t) => {
  const limited = { ...config, maxRestarts: 1, windowMs: 10_000 };
  const clean: Outcome = { kind: 'exited', code: 0 };
  const decisions = loop(limited, 20, clean);
  t.is(decisions.length, 20);
  t.true(decisions.every((decision) => decision.action === 'restart'));
  // Failures around clean ends are counted alone: two failures (not four ends) exceed one restart.
  let history: History = NO_HISTORY;
  const outcomes: Outcome[] = [failed, clean, clean, failed];
  const last = outcomes
    .map((outcome, i) => {
      const decision = decide(
        limited,
        history,
        run({ outcome, startedAt: i * 100, now: i * 100 + 10 }),
      );
      if (decision.action === 'restart') history = decision.history;
      return decision;
    })
    .at(-1);
  t.deepEqual(last, { action: 'give-up', status: 1, failures: 2, windowMs: 10_000 });
});

test('a stop in a stop: Ctrl+C kills now, a received one is forwarded, an API one ignored', (t) => {
  t.is(repeatedStop('SIGINT', true), 'kill-now');
  t.is(repeatedStop('SIGINT', false), 'kill-now');
  t.is(repeatedStop('SIGTERM', true), 'forward');
  t.is(repeatedStop('SIGQUIT', true), 'forward');
  t.is(repeatedStop('SIGTERM', false), 'ignore');
});
