import test from 'ava';
import { parseSignal, signalFacts, signalNumber } from '../../src/core/signals.js';

test('signals are read as users type them', (t) => {
  t.is(parseSignal('SIGTERM'), 'SIGTERM');
  t.is(parseSignal('term'), 'SIGTERM');
  t.is(parseSignal('15'), 'SIGTERM');
  t.is(parseSignal(' KILL '), 'SIGKILL');
  t.is(parseSignal('SIGNOPE'), undefined);
  t.is(parseSignal('99'), undefined);
  t.is(parseSignal(''), undefined);
});

test('facts come from human-signals: number, description, whether it dumps core', (t) => {
  t.deepEqual(signalFacts('SIGSEGV'), {
    name: 'SIGSEGV',
    number: 11,
    description: 'Segmentation fault',
    dumpsCore: true,
  });
  t.false(signalFacts('SIGTERM').dumpsCore);
  t.true(signalFacts('SIGABRT').dumpsCore);
  t.is(signalNumber('SIGUSR2'), 12);
});
