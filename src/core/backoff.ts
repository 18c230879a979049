// The wait before a restart: starts at `initialMs`, doubles per consecutive failure up to `maxMs`,
// with ±jitter so that many supervised copies do not restart in lockstep. Pure: randomness is an
// input.

interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay by which it may vary either way (0.1 = ±10%). */
  jitter: number;
}

/**
 * @param failure 1 for the first failure of a streak, 2 for the next ...
 * @param random a number in [0, 1), e.g. Math.random()
 */
export function backoffDelay(failure: number, config: BackoffConfig, random: number): number {
  const exponent = Math.max(0, failure - 1);
  // 2 ** 1100 is Infinity; cap the exponent so a long streak costs nothing and stays finite.
  const base = Math.min(config.initialMs * 2 ** Math.min(exponent, 64), config.maxMs);
  const varied = base * (1 + config.jitter * (2 * random - 1));
  return Math.round(Math.min(Math.max(varied, 0), config.maxMs));
}
