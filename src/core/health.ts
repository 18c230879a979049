// Health checks as Docker's HEALTHCHECK means them: failures during the start period do not count,
// a success ends the start period early, and `retries` failures in a row make the child unhealthy.
// Pure: each probe's result and its time since the start are inputs.

export interface HealthConfig {
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

/** What is probed: an HTTP GET (2xx is healthy) or a shell command (exit code 0 is healthy). */
type HealthProbe = { kind: 'url'; url: string } | { kind: 'command'; command: string };

export interface HealthCheck extends HealthConfig {
  probe: HealthProbe;
}

export interface HealthState {
  /** Counted failures in a row. */
  readonly failures: number;
  /** A probe has passed: the start period is over, whatever the clock says. */
  readonly started: boolean;
}

export const NEW_HEALTH: HealthState = { failures: 0, started: false };

export type HealthVerdict =
  /** Passed. */
  | 'healthy'
  /** Failed inside the start period: not counted. */
  | 'starting'
  /** Failed, counted, fewer than `retries` in a row so far. */
  | 'failing'
  | 'unhealthy';

export function recordProbe(
  config: HealthConfig,
  state: HealthState,
  passed: boolean,
  sinceStartMs: number,
): { state: HealthState; verdict: HealthVerdict } {
  if (passed) return { state: { failures: 0, started: true }, verdict: 'healthy' };
  if (!state.started && sinceStartMs < config.startPeriodMs) return { state, verdict: 'starting' };
  const failures = state.failures + 1;
  return {
    state: { ...state, failures },
    verdict: failures >= config.retries ? 'unhealthy' : 'failing',
  };
}
