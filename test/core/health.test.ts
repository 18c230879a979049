// Health verdicts as Docker's HEALTHCHECK gives them.
import test from 'ava';
import {
  NEW_HEALTH,
  recordProbe,
  type HealthConfig,
  type HealthState,
  type HealthVerdict,
} from '../../src/core/health.js';

const config: HealthConfig = {
  intervalMs: 1000,
  timeoutMs: 1000,
  retries: 3,
  startPeriodMs: 10_000,
};

function run(results: Array<[boolean, number]>): HealthVerdict[] {
  let state: HealthState = NEW_HEALTH;
  return results.map(([passed, at]) => {
    const recorded = recordProbe(config, state, passed, at);
    state = recorded.state;
    return recorded.verdict;
  });
}

test('retries failures in a row make the child unhealthy', (t) => {
  t.deepEqual(
    run([
      [false, 11_000],
      [false, 12_000],
      [false, 13_000],
    ]),
    ['failing', 'failing', 'unhealthy'],
  );
});

test('a pass starts the count over', (t) => {
  t.deepEqual(
    run([
      [false, 11_000],
      [false, 12_000],
      [true, 13_000],
      [false, 14_000],
      [false, 15_000],
    ]),
    ['failing', 'failing', 'healthy', 'failing', 'failing'],
  );
});

test('failures in the start period do not count', (t) => {
  t.deepEqual(
    run([
      [false, 1000],
      [false, 2000],
      [false, 3000],
      [false, 4000],
      [false, 10_000],
      [false, 11_000],
      [false, 12_000],
    ]),
    ['starting', 'starting', 'starting', 'starting', 'failing', 'failing', 'unhealthy'],
  );
});

test('a pass ends the start period early', (t) => {
  t.deepEqual(
    run([
      [true, 1000],
      [false, 2000],
      [false, 3000],
      [false, 4000],
    ]),
    ['healthy', 'failing', 'failing', 'unhealthy'],
  );
});
