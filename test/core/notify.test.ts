// The notify wire format: examples, then properties over arbitrary bytes and chunk boundaries.
import test from 'ava';
import fc from 'fast-check';
import {
  MAX_LINE_BYTES,
  NotifyDecoder,
  parseLine,
  type NotifyMessage,
} from '../../src/core/notify.js';
import { newlineJoined } from '../helpers/lines.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (text: string): NotifyMessage => parseLine(bytes(text));

function decodeAll(chunks: readonly Uint8Array[]): {
  messages: NotifyMessage[];
  maxPending: number;
} {
  const decoder = new NotifyDecoder();
  const messages: NotifyMessage[] = [];
  let maxPending = 0;
  for (const chunk of chunks) {
    decoder.push(chunk, (message) => messages.push(message));
    maxPending = Math.max(maxPending, decoder.pending);
  }
  return { messages, maxPending };
}

/** Cuts `data` at the given points (taken modulo its length). */
function cut(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  const at = [
    ...new Set(points.map((point) => (data.length === 0 ? 0 : point % (data.length + 1)))),
  ].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of at) {
    chunks.push(data.subarray(start, point));
    start = point;
  }
  chunks.push(data.subarray(start));
  return chunks;
}

test('the sd_notify vocabulary', (t) => {
  t.deepEqual(parse(''), { kind: 'beat' });
  t.deepEqual(parse('\r'), { kind: 'beat' });
  t.deepEqual(parse('WATCHDOG=1'), { kind: 'beat' });
  t.deepEqual(parse('WATCHDOG=1\r'), { kind: 'beat' });
  t.deepEqual(parse('READY=1'), { kind: 'ready' });
  t.deepEqual(parse('STOPPING=1'), { kind: 'stopping' });
  t.deepEqual(parse('WATCHDOG=trigger'), { kind: 'trigger' });
  t.deepEqual(parse('STATUS=serving 12 clients = fine'), {
    kind: 'status',
    text: 'serving 12 clients = fine',
  });
  t.deepEqual(parse('STATUS='), { kind: 'status', text: '' });
  t.deepEqual(parse('WATCHDOG_USEC=2500000'), { kind: 'set-timeout', ms: 2500 });
  t.deepEqual(parse('WATCHDOG_USEC=0'), { kind: 'set-timeout', ms: 0 });
  t.deepEqual(parse('EXTEND_TIMEOUT_USEC=500'), { kind: 'extend', ms: 0.5 });
  t.deepEqual(parse('MAINPID=4321'), { kind: 'main-pid', pid: 4321 });
  t.deepEqual(parse('MAINPID=4194304'), { kind: 'main-pid', pid: 4194304 });
  t.deepEqual(parse('RELOADING=1'), { kind: 'reloading' });
  t.deepEqual(parse('MONOTONIC_USEC=123456789'), { kind: 'ignored' });
  t.deepEqual(parse('X_CUSTOM=anything'), { kind: 'ignored' });
});

test('a status cannot put control characters on a terminal', (t) => {
  t.deepEqual(parse('STATUS=\u001b[31mred\u0007'), { kind: 'status', text: ' [31mred ' });
});

test('malformed lines are dropped, with the reason', (t) => {
  for (const line of [
    'hello',
    '=1',
    'ready=1',
    'READY',
    'READY=0',
    'READY=1 ',
    ' READY=1',
    'STOPPING=yes',
    'WATCHDOG=2',
    'RELOADING=0',
  ]) {
    t.deepEqual(parse(line), { kind: 'dropped', why: 'malformed' }, line);
  }
  for (const line of [
    'MAINPID=',
    'MAINPID=0',
    'MAINPID=012',
    'MAINPID=-5',
    'MAINPID=+5',
    'MAINPID=12 ',
    'MAINPID=4194305',
    'MAINPID=99999999999',
  ]) {
    t.deepEqual(parse(line), { kind: 'dropped', why: 'malformed' }, line);
  }
  for (const line of [
    'WATCHDOG_USEC=',
    'WATCHDOG_USEC=-1',
    'WATCHDOG_USEC=1.5',
    'WATCHDOG_USEC=1e6',
    'EXTEND_TIMEOUT_USEC=9999999999999999',
  ]) {
    t.deepEqual(parse(line), { kind: 'dropped', why: 'malformed' }, line);
  }
  // Binary garbage is not KEY=VALUE; a status text must be UTF-8 (it ends up in logs).
  t.deepEqual(parseLine(Uint8Array.of(0x52, 0x45, 0xff, 0x3d, 0x31)), {
    kind: 'dropped',
    why: 'malformed',
  });
  t.deepEqual(parseLine(Uint8Array.of(0xc3)), { kind: 'dropped', why: 'malformed' });
  t.deepEqual(parseLine(Uint8Array.of(...bytes('STATUS=caf'), 0xc3)), {
    kind: 'dropped',
    why: 'not-utf8',
  });
  t.deepEqual(parseLine(Uint8Array.of(...bytes('X_BINARY='), 0xc3)), { kind: 'ignored' });
  t.deepEqual(parse(`STATUS=${'x'.repeat(MAX_LINE_BYTES)}`), { kind: 'dropped', why: 'too-long' });
  t.deepEqual(parse(`STATUS=${'x'.repeat(MAX_LINE_BYTES - 7)}`).kind, 'status');
});

test('lines split across chunks are put together', (t) => {
  const { messages } = decodeAll([
    bytes('REA'),
    bytes('DY=1\n\nSTATUS=a'),
    bytes('b'),
    bytes('c\nWATCHDOG'),
    bytes('=trigger\n'),
  ]);
  t.deepEqual(messages, [
    { kind: 'ready' },
    { kind: 'beat' },
    { kind: 'status', text: 'abc' },
    { kind: 'trigger' },
  ]);
});

test('an endless line is reported once, as soon as it is too long, and holds no memory', (t) => {
  const decoder = new NotifyDecoder();
  const messages: NotifyMessage[] = [];
  const chunk = new Uint8Array(65_536).fill(0x78);
  for (let i = 0; i < 200; i++) {
    decoder.push(chunk, (message) => messages.push(message));
    t.true(decoder.pending <= MAX_LINE_BYTES);
  }
  t.deepEqual(messages, [{ kind: 'dropped', why: 'too-long' }]);
  decoder.push(bytes('still the same line\nREADY=1\n'), (message) => messages.push(message));
  t.deepEqual(messages, [{ kind: 'dropped', why: 'too-long' }, { kind: 'ready' }]);
});

test('property: parsing any bytes never throws and always gives a message', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 6000 }), (line) => {
      const message = parseLine(line);
      return typeof message.kind === 'string';
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('property: chunk boundaries never change what is read, and never more than a line is held', (t) => {
  fc.assert(
    fc.property(
      fc
        .uint8Array({ maxLength: 20_000 })
        .map((data) => data.map((byte) => (byte % 5 === 0 ? 0x0a : byte))),
      fc.array(fc.nat(), { maxLength: 40 }),
      (data, points) => {
        const whole = decodeAll([data]);
        const split = decodeAll(cut(data, points));
        t.deepEqual(split.messages, whole.messages);
        t.true(split.maxPending <= MAX_LINE_BYTES);
      },
    ),
    { numRuns: 300 },
  );
});

/** One line of a flood: garbage of every kind, or a message whose count is checked. */
const floodLine = fc.oneof(
  fc.constantFrom('', '\r', 'WATCHDOG=1', 'READY=1', 'STATUS=working', 'WATCHDOG=trigger'),
  fc.string({ maxLength: 60, unit: 'binary' }).map((text) => text.replace(/\n/g, ' ')),
  fc
    .uint8Array({ minLength: 1, maxLength: 80 })
    .map((data) => Uint8Array.from(data, (byte) => (byte === 0x0a ? 0xff : byte))),
  fc
    .integer({ min: MAX_LINE_BYTES + 1, max: MAX_LINE_BYTES * 3 })
    .map((length) => 'y'.repeat(length)),
);

test('property: in any flood of garbage, every beat, READY and trigger is found, in order', (t) => {
  fc.assert(
    fc.property(
      fc.array(floodLine, { maxLength: 80 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (lines, points) => {
        const encoded = lines.map((line) => (typeof line === 'string' ? bytes(line) : line));
        const data = newlineJoined(encoded);
        const expected = lines.map(
          (line) => (typeof line === 'string' ? parse(line) : parseLine(line)).kind,
        );
        const { messages } = decodeAll(cut(data, points));
        t.deepEqual(
          messages.map((message) => message.kind),
          expected,
        );
        const watched = (kind: string): boolean =>
          kind === 'beat' || kind === 'ready' || kind === 'trigger';
        const beatLines = new Set(['', '\r', 'WATCHDOG=1', 'WATCHDOG=1\r']);
        const beatsSent = encoded.filter((line) =>
          beatLines.has(Buffer.from(line).toString('latin1')),
        ).length;
        t.is(messages.filter((message) => message.kind === 'beat').length, beatsSent);
        t.deepEqual(
          messages.map((message) => message.kind).filter(watched),
          expected.filter(watched),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('property: what a well-behaved child writes is read back exactly', (t) => {
  const message = fc.oneof(
    fc.constant<NotifyMessage>({ kind: 'beat' }),
    fc.constant<NotifyMessage>({ kind: 'ready' }),
    fc.constant<NotifyMessage>({ kind: 'stopping' }),
    fc.constant<NotifyMessage>({ kind: 'trigger' }),
    fc
      .string({ maxLength: 200, unit: 'grapheme' })
      .filter((text) => !/[\u0000-\u001f\u007f-\u009f]/.test(text))
      .map((text): NotifyMessage => ({ kind: 'status', text })),
    fc
      .integer({ min: 0, max: 1e12 })
      .map((usec): NotifyMessage => ({ kind: 'set-timeout', ms: usec / 1000 })),
    fc
      .integer({ min: 0, max: 1e12 })
      .map((usec): NotifyMessage => ({ kind: 'extend', ms: usec / 1000 })),
  );
  const write = (sent: NotifyMessage): string => {
    switch (sent.kind) {
      case 'beat':
        return 'WATCHDOG=1';
      case 'ready':
        return 'READY=1';
      case 'stopping':
        return 'STOPPING=1';
      case 'trigger':
        return 'WATCHDOG=trigger';
      case 'status':
        return `STATUS=${sent.text}`;
      case 'set-timeout':
        return `WATCHDOG_USEC=${Math.round(sent.ms * 1000)}`;
      case 'extend':
        return `EXTEND_TIMEOUT_USEC=${Math.round(sent.ms * 1000)}`;
      default:
        return '';
    }
  };
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 50 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (sent, points) => {
        const data = bytes(sent.map((each) => `${write(each)}\n`).join(''));
        t.deepEqual(decodeAll(cut(data, points)).messages, sent);
      },
    ),
    { numRuns: 300 },
  );
});

/**
 * What lastStatusOnly must give: the full decoder's messages, a run of statuses cut to its last.
 */
function lastOfRuns(messages: readonly NotifyMessage[]): NotifyMessage[] {
  return messages.filter(
    (message, index) => message.kind !== 'status' || messages[index + 1]?.kind !== 'status',
  );
}

test('property: lastStatusOnly visits the last of each run of statuses in a chunk, and every other message and drop', (t) => {
  const line = fc.oneof(
    fc.constantFrom(
      'STATUS=a',
      'STATUS=busy',
      'STATUS=caf\u00e9',
      'STATUS=\u001b[31m',
      'STATUS=',
      'STATUS=x\r',
      '',
      'WATCHDOG=1',
      'READY=1',
      'MAINPID=1',
      'nope',
    ),
    fc.constant(Uint8Array.of(...bytes('STATUS=caf'), 0xc3)),
    fc.constant(`STATUS=${'x'.repeat(MAX_LINE_BYTES)}`),
  );
  fc.assert(
    fc.property(fc.array(fc.array(line, { maxLength: 20 }), { maxLength: 5 }), (chunks) => {
      const full = new NotifyDecoder();
      const last = new NotifyDecoder({ lastStatusOnly: true });
      for (const lines of chunks) {
        const data = Uint8Array.from(
          lines.flatMap((each) => [...(typeof each === 'string' ? bytes(each) : each), 0x0a]),
        );
        const expected: NotifyMessage[] = [];
        const got: NotifyMessage[] = [];
        full.push(data, (message) => expected.push(message));
        last.push(data, (message) => got.push(message));
        t.deepEqual(got, lastOfRuns(expected));
      }
    }),
    { numRuns: 500 },
  );
});

test('a chunk read into a reused buffer: only its first `length` bytes are read, a split line carried', (t) => {
  const decoder = new NotifyDecoder({ lastStatusOnly: true });
  const messages: NotifyMessage[] = [];
  const visit = (message: NotifyMessage): void => void messages.push(message);
  // What the last read left behind in the buffer (READY=1, a status) must not be seen again.
  decoder.push(bytes('\nSTATUS=old\nREADY=1\n'), visit, 1);
  decoder.push(bytes('STATUS=a\nSTOPPINGREADY=1\n'), visit, 17);
  decoder.push(bytes('=1\nREADY=1\n'), visit, 3);
  t.deepEqual(messages, [{ kind: 'beat' }, { kind: 'status', text: 'a' }, { kind: 'stopping' }]);
  t.is(decoder.pending, 0);
});
