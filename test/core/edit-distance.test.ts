import test from 'ava';
import fc from 'fast-check';
import { closest, editDistance } from '../../src/core/edit-distance.js';

test('edits between words, a swap of neighbours counting as one', (t) => {
  t.is(editDistance('heartbeat', 'heartbeat'), 0);
  t.is(editDistance('heartbeet', 'heartbeat'), 1);
  t.is(editDistance('dbb', 'db'), 1);
  t.is(editDistance('restrat', 'restart'), 1);
  t.is(editDistance('', 'abc'), 3);
  t.is(editDistance('kitten', 'sitting'), 3);
});

test('a distance: zero only for the same word, symmetric, at most the longer length', (t) => {
  const words = fc.string({ maxLength: 12 });
  fc.assert(
    fc.property(words, words, (a, b) => {
      const distance = editDistance(a, b);
      return (
        (distance === 0) === (a === b) &&
        distance === editDistance(b, a) &&
        distance <= Math.max(a.length, b.length) &&
        distance >= Math.abs(a.length - b.length)
      );
    }),
  );
  t.pass();
});

test('the nearest candidate, only when it is near enough to be a typo', (t) => {
  t.is(closest('dbb', ['db', 'web']), 'db');
  t.is(closest('heartbeet', ['heartbeat', 'heartbeat-grace']), 'heartbeat');
  t.is(closest('Restart', ['restart']), 'restart');
  t.is(closest('replicas', ['restart', 'delay']), undefined);
  t.is(closest('x', []), undefined);
});
