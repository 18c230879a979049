import test from 'ava';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

const accepted: Array<[string, number]> = [
  ['0', 0],
  ['250ms', 250],
  ['1s', 1000],
  ['1.5m', 90_000],
  ['2h', 7_200_000],
  ['10 s', 10_000],
  ['0s', 0],
  ['1h30m', 5_400_000],
];
for (const [text, expected] of accepted) {
  test(`parseDuration accepts ${JSON.stringify(text)}`, (t) => {
    t.deepEqual(parseDuration(text), { ok: true, value: expected });
  });
}

test('a bare number other than 0 is rejected with a hint to add a unit', (t) => {
  t.deepEqual(parseDuration('5'), {
    ok: false,
    expected: 'a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)',
  });
});

test("a duration longer than Node's timers can wait is rejected", (t) => {
  t.deepEqual(parseDuration('24d'), { ok: true, value: 24 * 86_400_000 });
  t.deepEqual(parseDuration('25d'), {
    ok: false,
    expected: "a duration of at most 24d (Node's timers cannot wait longer)",
  });
});

for (const text of [
  '',
  'soon',
  '-1s',
  '1 fortnight',
  'ms',
  '1,5s',
  '1s foo',
  '1.5.5s',
  '1h-30m',
  'foo1s',
  '1sec',
]) {
  test(`parseDuration rejects ${JSON.stringify(text)}`, (t) => {
    t.false(parseDuration(text).ok);
  });
}

test('formatDuration is short and never rounds up to the next unit', (t) => {
  t.is(formatDuration(0), '0ms');
  t.is(formatDuration(800), '800ms');
  t.is(formatDuration(1500), '1.5s');
  t.is(formatDuration(10_000), '10s');
  t.is(formatDuration(90_000), '1m30s');
  t.is(formatDuration(60_000), '1m');
  t.is(formatDuration(7_200_000), '2h');
  // From a minute on, the part below a second is dropped: what the comment says, not "exact".
  t.is(formatDuration(61_500), '1m1s');
  t.is(formatDuration(1550), '1.6s');
});
