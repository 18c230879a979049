// The line splitter: the same bytes give the same lines whatever the chunks, long lines in pieces.
import { PassThrough } from 'node:stream';
import test from 'ava';
import fc from 'fast-check';
import { LineSplitter, MAX_LINE, readLines, type LineSink } from '../../src/output/lines.js';

interface Line {
  text: string;
  continued: boolean;
}

function collector(): { sink: LineSink; lines: Line[]; flushes: number[] } {
  const lines: Line[] = [];
  const flushes: number[] = [];
  return {
    lines,
    flushes,
    sink: {
      line: (bytes, start, end, continued) =>
        lines.push({ text: bytes.toString('latin1', start, end), continued }),
      flush: () => {
        flushes.push(lines.length);
        return undefined;
      },
    },
  };
}

function split(chunks: readonly Buffer[]): Line[] {
  const { sink, lines } = collector();
  const splitter = new LineSplitter(sink);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

/** What the lines should be: split on "\n", a last line without one kept, long ones in pieces. */
function expected(text: string): Line[] {
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts.flatMap((part) => {
    if (part.length <= MAX_LINE) return [{ text: part, continued: false }];
    const pieces: Line[] = [];
    for (let at = 0; at < part.length; at += MAX_LINE)
      pieces.push({ text: part.slice(at, at + MAX_LINE), continued: at > 0 });
    return pieces;
  });
}

/** Cuts `bytes` at the given places (sorted, deduplicated). */
function cut(bytes: Buffer, places: number[]): Buffer[] {
  const sorted = [...new Set(places.map((place) => place % (bytes.length + 1)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let from = 0;
  for (const place of sorted) {
    chunks.push(bytes.subarray(from, place));
    from = place;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

// Short lines, empty ones, and lines around MAX_LINE (cut into pieces at the bound exactly).
const lineText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '\r', 'é'), maxLength: 40 }),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_LINE - 2, max: 2 * MAX_LINE + 2 })
      .map((length) => 'x'.repeat(length)),
  },
);
const output = fc
  .tuple(fc.array(lineText, { maxLength: 30 }), fc.boolean())
  .map(([lines, lastNewline]) => lines.join('\n') + (lastNewline && lines.length > 0 ? '\n' : ''));

test('any chunking of the same bytes gives the same lines', (t) => {
  fc.assert(
    fc.property(output, fc.array(fc.nat(), { maxLength: 40 }), (text, places) => {
      const bytes = Buffer.from(text, 'latin1');
      const whole = split([bytes]);
      t.deepEqual(split(cut(bytes, places)), whole);
      t.deepEqual(whole, expected(text));
    }),
    { numRuns: 300 },
  );
});

/** As split(), through a sink that takes runs of whole lines at once where it can. */
function splitInRuns(chunks: readonly Buffer[]): { lines: Line[]; runsOk: boolean } {
  const { sink, lines } = collector();
  let runsOk = true;
  const splitter = new LineSplitter({
    ...sink,
    lines: (bytes, start, end) => {
      const run = bytes.toString('latin1', start, end);
      const parts = run.split('\n');
      runsOk &&= parts.pop() === '' && parts.every((part) => part.length <= MAX_LINE);
      for (const text of parts) lines.push({ text, continued: false });
    },
  });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, runsOk };
}

test('a sink taking runs of whole lines gets the same lines, whatever the chunking', (t) => {
  fc.assert(
    fc.property(output, fc.array(fc.nat(), { maxLength: 40 }), (text, places) => {
      const bytes = Buffer.from(text, 'latin1');
      const { lines, runsOk } = splitInRuns(cut(bytes, places));
      t.true(runsOk);
      t.deepEqual(lines, expected(text));
    }),
    { numRuns: 300 },
  );
});

test('byte by byte: the same lines as in one chunk', (t) => {
  const text = 'one\ntwo\r\n\nthree without newline';
  const bytes = Buffer.from(text);
  const single = [...bytes].map((byte) => Buffer.from([byte]));
  t.deepEqual(split(single), split([bytes]));
  t.deepEqual(
    split([bytes]).map((line) => line.text),
    ['one', 'two\r', '', 'three without newline'],
  );
});

test('a line past MAX_LINE comes in pieces, the later ones marked as continuing', (t) => {
  const lines = split([Buffer.from(`${'y'.repeat(MAX_LINE * 2 + 5)}\nnext\n`)]);
  t.deepEqual(
    lines.map((line) => [line.text.length, line.continued]),
    [
      [MAX_LINE, false],
      [MAX_LINE, true],
      [5, true],
      [4, false],
    ],
  );
});

test('readLines: every line of a stream, its last without "\\n" too, then settles', async (t) => {
  const { sink, lines, flushes } = collector();
  const stream = new PassThrough();
  const done = readLines(stream, sink);
  stream.write('a\nb');
  stream.write('c\nd');
  stream.end();
  await done;
  t.deepEqual(
    lines.map((line) => line.text),
    ['a', 'bc', 'd'],
  );
  t.true(flushes.length >= 2);
});

test('readLines waits while the sink is full, and reads on when it is not', async (t) => {
  const lines: string[] = [];
  let release: (() => void) | undefined;
  const stream = new PassThrough();
  const done = readLines(stream, {
    line: (bytes, start, end) => lines.push(bytes.toString('utf8', start, end)),
    flush: () =>
      lines.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined,
  });
  stream.write('first\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.true(stream.isPaused());
  stream.end('second\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(lines, ['first']);
  release?.();
  await done;
  t.deepEqual(lines, ['first', 'second']);
});
