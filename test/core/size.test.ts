import test from 'ava';
import { formatSize, parseSize } from '../../src/core/size.js';

const accepted: Array<[string, number]> = [
  ['512MB', 512e6],
  ['1.5GB', 1.5e9],
  ['800MiB', 800 * 2 ** 20],
  ['64kB', 64e3],
  ['64KiB', 65_536],
  ['2gib', 2 * 2 ** 30],
  ['150 MB', 150e6],
  ['4096B', 4096],
];
for (const [text, expected] of accepted) {
  test(`parseSize accepts ${JSON.stringify(text)}`, (t) => {
    t.deepEqual(parseSize(text), { ok: true, value: expected });
  });
}

test('a bare number is refused with a hint to add a unit', (t) => {
  t.deepEqual(parseSize('512'), {
    ok: false,
    expected: 'a size with a unit, such as 512MB, 1.5GB or 800MiB (did you mean 512MB?)',
  });
});

for (const text of [
  '',
  'lots',
  '-5MB',
  '5 megabytes',
  '1,5GB',
  '0MB',
  'MB',
  '1.2.3MB',
  '5MB 3MB',
]) {
  test(`parseSize refuses ${JSON.stringify(text)}`, (t) => {
    t.false(parseSize(text).ok);
  });
}

test('formatSize says sizes the way the limit words do', (t) => {
  t.is(formatSize(812_000), '812kB');
  t.is(formatSize(212_400_000), '212MB');
  t.is(formatSize(150e6), '150MB');
  t.is(formatSize(1.5e9), '1.5GB');
});
