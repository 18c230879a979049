import test from 'ava';
import fc from 'fast-check';
import { decimal } from '../../src/core/decimal.js';

test('the digits String() gives, for every whole number a pid or a count can be', (t) => {
  fc.assert(fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 4_194_304)), (n) => decimal(n) === String(n)));
  t.pass();
});

test('anything else is String() itself', (t) => {
  for (const n of [-1, -250, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) t.is(decimal(n), String(n));
});
