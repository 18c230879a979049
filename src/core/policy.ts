// What happens after the child ends: restart after a delay, give up, or end. Pure: the clock,
// randomness and history are inputs, and the next history is part of the answer.
import { backoffDelay } from './backoff.js';
import { exitStatus, type Outcome } from './exit.js';
import type { SignalName } from './signals.js';

export type RestartMode = 'always' | 'on-failure' | 'never';

export interface PolicyConfig {
  restart: RestartMode;
  successCodes: readonly number[];
  successSignals: readonly SignalName[];
  delayMs: number;
  maxDelayMs: number;
  jitter: number;
  resetAfterMs: number;
  /** Restarts allowed within `windowMs`; Infinity for no limit. */
  maxRestarts: number;
  windowMs: number;
}

export interface History {
  /** Failures since the last stable run; drives the backoff. */
  readonly streak: number;
  /** When recent failures happened; only the last `maxRestarts + 1` within the window are kept. */
  readonly recentEnds: readonly number[];
  /** Restarts so far, for KEEPALIVE_RESTARTS and log lines. */
  readonly restarts: number;
}

export const NO_HISTORY: History = { streak: 0, recentEnds: [], restarts: 0 };

export interface RunFacts {
  outcome: Outcome;
  /** Monotonic milliseconds when the run started, when it said it was ready (READY=1), and now. */
  startedAt: number;
  readyAt?: number;
  now: number;
  /** keepalive is stopping (a signal or `keepalive stop`): nothing restarts. */
  stopping: boolean;
  /** The run ended because a restart was asked for (`restart()`, `keepalive restart`). */
  planned?: boolean;
  /** This was the very first start: failing to start at all is a usage mistake, not a crash. */
  firstRun: boolean;
  /** In [0, 1), for the jitter. */
  random: number;
}

export type EndReason = 'stopped' | 'success' | 'no-restart' | 'not-started';

export type Decision =
  /**
   * `planned`: asked for, so at once and counted neither in the backoff nor in the crash-loop
   * window.
   */
  | { action: 'restart'; delayMs: number; restart: number; planned: boolean; history: History }
  | { action: 'give-up'; status: number; failures: number; windowMs: number }
  | { action: 'end'; status: number; reason: EndReason };

export function decide(config: PolicyConfig, history: History, run: RunFacts): Decision {
  const status = exitStatus(run.outcome);
  if (run.stopping) return { action: 'end', status, reason: 'stopped' };
  if (run.planned === true) {
    const restart = history.restarts + 1;
    return {
      action: 'restart',
      delayMs: 0,
      restart,
      planned: true,
      history: { ...history, restarts: restart },
    };
  }
  if (run.firstRun && run.outcome.kind === 'not-started')
    return { action: 'end', status, reason: 'not-started' };
  if (config.restart === 'never') return { action: 'end', status, reason: 'no-restart' };
  if (config.restart === 'on-failure' && isSuccess(config, run.outcome)) {
    return { action: 'end', status, reason: 'success' };
  }

  // Under always a clean end (a success code) is restarted too, but it is no failure: the
  // crash-loop limit counts failures only, and "giving up: N failures" means N failures.
  const failed = !isSuccess(config, run.outcome);
  // The ends are in time order: those before `first` have left the window.
  const ends = history.recentEnds;
  let first = 0;
  while (first < ends.length && run.now - (ends[first] as number) >= config.windowMs) first++;
  const failures = ends.length - first + (failed ? 1 : 0);
  if (failed && failures > config.maxRestarts) {
    return { action: 'give-up', status, failures, windowMs: config.windowMs };
  }

  // A stable run lasted --reset-after, counted from READY=1 when the child sent it: a child that
  // says it is ready and then dies at once is not stable.
  const stable = run.now - (run.readyAt ?? run.startedAt) >= config.resetAfterMs;
  const streak = stable ? 1 : history.streak + 1;
  const delayMs = backoffDelay(
    streak,
    { initialMs: config.delayMs, maxMs: config.maxDelayMs, jitter: config.jitter },
    run.random,
  );
  const keep = Number.isFinite(config.maxRestarts) ? config.maxRestarts + 1 : 0;
  return {
    action: 'restart',
    delayMs,
    restart: history.restarts + 1,
    planned: false,
    history: {
      streak,
      recentEnds: keptEnds(ends, first, failed ? run.now : undefined, keep),
      restarts: history.restarts + 1,
    },
  };
}

/**
 * The last `keep` of ends[first..] and `now`, copied once (a restart loop with a big limit copies
 * each restart).
 */
function keptEnds(
  ends: readonly number[],
  first: number,
  now: number | undefined,
  keep: number,
): number[] {
  if (keep === 0) return [];
  const from = Math.max(first, ends.length - (keep - (now === undefined ? 0 : 1)));
  const kept = ends.slice(from);
  if (now !== undefined) kept.push(now);
  return kept;
}

/** Under on-failure: a listed exit code, or a listed signal, is a clean end. */
function isSuccess(
  config: Pick<PolicyConfig, 'successCodes' | 'successSignals'>,
  outcome: Outcome,
): boolean {
  if (outcome.kind === 'exited') return config.successCodes.includes(outcome.code);
  if (outcome.kind === 'killed' || outcome.kind === 'crashed')
    return config.successSignals.includes(outcome.signal);
  return false;
}

/**
 * A stop asked for while keepalive is already stopping: a second Ctrl+C means "now" (SIGKILL to
 * all that is left); another stop signal keepalive `received` is the child's, passed on (a child
 * that traps SIGTERM may leave on SIGQUIT); a stop asked for through the API changes nothing.
 */
export function repeatedStop(
  signal: SignalName,
  received: boolean,
): 'kill-now' | 'forward' | 'ignore' {
  if (signal === 'SIGINT') return 'kill-now';
  return received ? 'forward' : 'ignore';
}
