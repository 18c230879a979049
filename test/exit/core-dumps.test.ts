import test from 'ava';
import { coreDumpsFromLimits, readCoreDumps } from '../../src/exit/core-dumps.js';

const limits = (soft: string): string =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax core file size        ${soft}                    unlimited            bytes\n`;

test('the soft core limit decides whether a crash may leave a core file', (t) => {
  t.is(coreDumpsFromLimits(limits('0')), 'disabled');
  t.is(coreDumpsFromLimits(limits('unlimited')), 'possible');
  t.is(coreDumpsFromLimits('nothing here'), 'unknown');
});

test("this process's own limits can be read", (t) => {
  t.true(['disabled', 'possible'].includes(readCoreDumps()));
});
