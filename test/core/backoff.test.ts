import test from 'ava';
import { backoffDelay } from '../../src/core/backoff.js';

const config = { initialMs: 100, maxMs: 30_000, jitter: 0.1 };
const middle = 0.5; // no jitter

test('the delay doubles per consecutive failure', (t) => {
  const delays = [1, 2, 3, 4, 5].map((failure) => backoffDelay(failure, config, middle));
  t.deepEqual(delays, [100, 200, 400, 800, 1600]);
});

test('the delay is capped at the maximum, however long the streak', (t) => {
  t.is(backoffDelay(20, config, middle), 30_000);
  t.is(backoffDelay(10_000, config, middle), 30_000);
  t.is(backoffDelay(10_000, config, 0.999), 30_000);
});

test('jitter stays within ±10%', (t) => {
  t.is(backoffDelay(4, config, 0), 720);
  t.is(backoffDelay(4, config, 0.999_999), 880);
  for (let step = 0; step < 100; step++) {
    const delay = backoffDelay(3, config, step / 100);
    t.true(delay >= 360 && delay <= 440, `delay ${delay}`);
  }
});

test('a zero delay stays zero', (t) => {
  t.is(backoffDelay(5, { initialMs: 0, maxMs: 30_000, jitter: 0.1 }, 0.9), 0);
});
