// Text from records and children, made safe to show and bounded.
import test from 'ava';
import { bounded, stripControl } from '../../src/core/shown-text.js';

test('control characters are removed: C0, DEL, C1 and the bidirectional overrides', (t) => {
  t.is(stripControl('a\u001b[31mred\u0007\r\n\t\u007f\u009b\u202eb'), 'a[31mredb');
  t.is(stripControl('plain text, ünïcödé, 😀'), 'plain text, ünïcödé, 😀');
});

test('bounded: at most the limit, marked with an ellipsis, never half a surrogate pair', (t) => {
  t.is(bounded('short', 10), 'short');
  t.is(bounded('abcdefghijkl', 5), 'abcd…');
  const cut = bounded(`abc${'😀'.repeat(5)}`, 5);
  t.true(cut.length <= 5);
  t.false(/[\ud800-\udbff]…$/.test(cut), cut);
});
