// A set's output: 4 processes each writing 100 MB of 100-byte lines through the prefixer, into a
// pipe read by a sink that reads as `cat > /dev/null` does (a terminal-less sink, as a container's
// log is), beside the floor from the same round: the same 4 writers into one pipe read by `cat`,
// writing to the same sink (a relay that does nothing to the bytes). Budget: at least 0.7x the
// floor's throughput, both timed by the sink from its first byte to its last: keepalive's fixed
// start (Node's, the spawns) is not throughput, and 100 MB a process keeps the files small.
// Then a checked run: every line whole, prefixed with its own process's name, none lost, each
// process's lines in order. Also the splitter and prefixer alone, in this process, without I/O:
// the part of keepalive's time that is its own JavaScript.
// Usage: node build/scripts/bench/output.js [--smoke] [--rounds N (5)]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../../src/output/lines.js';
import { prefixedOutput } from '../../src/output/prefixed.js';
import type { Readable, Writable } from 'node:stream';
import { markdown, outputSinkProgram, stats, tempFile, type Row, type Stats } from './lib.js';

const SET = fileURLToPath(new URL('./output-set.js', import.meta.url));
const NAMES = ['web', 'worker', 'db', 'proxy'];
const LINE = 100;
const BUDGET = 0.7;

/** A file of `mb` MB of numbered 100-byte lines: 10 digits, a space, 88 x's, "\n". */
function linesFile(mb: number): string {
  const path = tempFile('lines');
  const fd = openSync(path, 'w');
  const perBlock = 10_000;
  const tail = ` ${'x'.repeat(LINE - 12)}\n`;
  for (let done = 0; done < (mb * 1e6) / LINE; done += perBlock) {
    let block = '';
    for (let i = done; i < done + perBlock; i++) block += String(i).padStart(10, '0') + tail;
    writeSync(fd, block);
  }
  closeSync(fd);
  return path;
}

/** What the sink read: its bytes, and the seconds from the first byte to the last. */
interface Sunk {
  bytes: number;
  seconds: number;
}

/**
 * The sink both sides write to: output-sink.c reading a pipe as `cat > /dev/null` does, timing
 * from its first byte to its last (a run's start and end left out, for both sides alike).
 */
function sink(): { stdin: Writable; sunk: Promise<Sunk> } {
  const child = spawn(outputSinkProgram(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  let said = '';
  child.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  // 'close': its stdout read to the end too ('exit' can come first).
  const sunk = once(child, 'close').then(([code]) => {
    const [bytes, ns] = said.trim().split(' ').map(Number);
    if (code !== 0 || bytes === undefined || ns === undefined) throw new Error(`sink: ${said}`);
    return { bytes, seconds: ns / 1e9 };
  });
  return { stdin: child.stdin as Writable, sunk };
}

async function ended(child: ChildProcess): Promise<number> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return child.exitCode ?? 1;
}

/** A run's times: from the first spawn to the last exit, and the sink's first byte to last. */
interface Timed extends Sunk {
  wall: number;
}

/** The floor: 4 `cat FILE` into one pipe, relayed by `cat` into the sink. */
async function floor(file: string): Promise<Timed> {
  const into = sink();
  const started = performance.now();
  const relay = spawn('cat', [], { stdio: ['pipe', into.stdin, 'inherit'] });
  const writers = NAMES.map(() =>
    spawn('cat', [file], { stdio: ['ignore', relay.stdin ?? 'ignore', 'inherit'] }),
  );
  relay.stdin?.destroy();
  into.stdin.destroy();
  await Promise.all(writers.map(ended));
  await ended(relay);
  const sunk = await into.sunk;
  return { ...sunk, wall: (performance.now() - started) / 1000 };
}

/**
 * A peer that does the same per-line work in C: each writer through `sed 's/^/name | /'` into
 * the sink (4 seds beside each other; their lines may tear, only the speed is compared).
 */
async function peer(file: string): Promise<Timed> {
  const into = sink();
  const started = performance.now();
  const width = Math.max(...NAMES.map((name) => name.length));
  const writers = NAMES.map((name) =>
    spawn('sh', ['-c', `cat "$1" | sed "s/^/${name.padEnd(width)} | /"`, 'sh', file], {
      stdio: ['ignore', into.stdin, 'inherit'],
    }),
  );
  into.stdin.destroy();
  await Promise.all(writers.map(ended));
  const sunk = await into.sunk;
  return { ...sunk, wall: (performance.now() - started) / 1000 };
}

interface Cpu {
  userMs: number;
  systemMs: number;
}

/**
 * keepalive's side: the 4 writers through the prefixer (output-set.js), into the sink. `relay`:
 * Node passing the bytes on as they come instead (no per-line work: the most Node's I/O gives).
 */
async function ours(file: string, relay = false): Promise<Timed & Cpu> {
  const into = sink();
  const started = performance.now();
  const set = spawn(process.execPath, [SET, ...(relay ? ['--relay'] : []), file, ...NAMES], {
    stdio: ['ignore', into.stdin, 'pipe'],
  });
  into.stdin.destroy();
  const cpu = await cpuOf(set);
  const sunk = await into.sunk;
  return { ...sunk, ...cpu, wall: (performance.now() - started) / 1000 };
}

/** The same, its output read by checkLines instead of the sink. */
async function checked(file: string): Promise<Check> {
  const set = spawn(process.execPath, [SET, file, ...NAMES], { stdio: ['ignore', 'pipe', 'pipe'] });
  const check = checkLines(set.stdout as Readable);
  await cpuOf(set);
  return check;
}

/** Waits for output-set's exit; its CPU time, the last line of its stderr. */
async function cpuOf(set: ChildProcess): Promise<Cpu> {
  let said = '';
  set.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const code = await ended(set);
  if (code !== 0) throw new Error(`output-set exited with ${code}: ${said}`);
  return JSON.parse(said.trim().split('\n').at(-1) ?? '{}') as Cpu;
}

interface Check {
  lines: number;
  bad: number;
  firstBad?: string;
  /** Per name: the next number due (all equal to the line count when none was lost). */
  next: Record<string, number>;
}

/** Reads the prefixed lines: `name | NNNNNNNNNN xxx...`, each name's numbers following on. */
function checkLines(stream: Readable): Promise<Check> {
  const width = Math.max(...NAMES.map((name) => name.length));
  const next: Record<string, number> = Object.fromEntries(NAMES.map((name) => [name, 0]));
  const result: Check = { lines: 0, bad: 0, next };
  const tail = ` ${'x'.repeat(LINE - 12)}`;
  let held = '';
  stream.on('data', (chunk: Buffer) => {
    const text = held + chunk.toString('latin1');
    const lines = text.split('\n');
    held = lines.pop() ?? '';
    for (const line of lines) {
      result.lines++;
      const name = line.slice(0, width).trimEnd();
      const number = Number(line.slice(width + 3, width + 13));
      const whole =
        line.length === width + 3 + LINE - 1 &&
        line.slice(width, width + 3) === ' | ' &&
        line.slice(width + 13) === tail &&
        next[name] === number;
      if (whole) next[name] = number + 1;
      else {
        result.bad++;
        result.firstBad ??= line.slice(0, 200);
      }
    }
  });
  return new Promise((resolve) =>
    stream.once('end', () => {
      if (held !== '') result.bad++;
      resolve(result);
    }),
  );
}

/** The splitter and prefixer alone on the file's bytes, 64 KiB chunks as a pipe gives them. */
async function inProcess(file: string): Promise<{ splitMs: number; prefixMs: number }> {
  const bytes = readFileSync(file);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
  let lines = 0;
  const timed = (make: () => { push(chunk: Buffer): void }): number => {
    const started = performance.now();
    const splitter = make();
    for (const chunk of chunks) splitter.push(chunk);
    return performance.now() - started;
  };
  const splitMs = timed(
    () => new LineSplitter({ line: () => void lines++, flush: () => undefined }),
  );
  // The prefixer's own sink, writing to a stream that drops what it is given.
  const { Writable } = await import('node:stream');
  const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });
  const target = (await prefixedOutput({ names: NAMES, stdout: nowhere, stderr: nowhere }))('web');
  const { PassThrough } = await import('node:stream');
  const input = new PassThrough({ highWaterMark: 65536 });
  const started = performance.now();
  const following = target.follow(
    { name: 'web', pid: 0 },
    { stdout: input, stderr: new PassThrough().end() },
  );
  for (const chunk of chunks) if (!input.write(chunk)) await once(input, 'drain');
  input.end();
  await following;
  return { splitMs, prefixMs: performance.now() - started };
}

export async function run({ smoke, rounds }: { smoke: boolean; rounds: number }): Promise<Row[]> {
  const mb = smoke ? 10 : 100;
  const file = linesFile(mb);
  const total = NAMES.length * mb;
  const lines = (mb * 1e6) / LINE;
  const width = Math.max(...NAMES.map((name) => name.length));
  try {
    // Alternated round by round: the machine's other load falls on each side alike, and each of
    // keepalive's figures is paired with the floor measured just before it.
    const floors: Timed[] = [];
    const peers: Timed[] = [];
    const runs: (Timed & Cpu)[] = [];
    const relays: Timed[] = [];
    for (let round = 0; round < rounds; round++) {
      floors.push(await floor(file));
      runs.push(await ours(file));
      peers.push(await peer(file));
      relays.push(await ours(file, true));
    }
    const sizes = [...floors, ...relays, ...runs].map((one) => one.bytes);
    const expected = [
      ...[...floors, ...relays].map(() => total * 1e6),
      ...runs.map(() => lines * 4 * (width + 3 + LINE)),
    ];
    if (sizes.some((size, at) => size !== expected[at])) throw new Error(`sink read ${sizes}`);
    const check = await checked(file);
    const lost = Object.values(check.next).some((next) => next !== lines);
    const alone = await inProcess(file);
    const ratios = runs.map((one, at) => (floors[at] as Timed).seconds / one.seconds);
    const ratio = stats(ratios);
    const seconds = (list: Timed[], pick: (one: Timed) => number): string =>
      list.map((one) => pick(one).toFixed(2)).join(' ');
    const cpu = runs.map((one) => `${one.userMs.toFixed(0)}+${one.systemMs.toFixed(0)}`);
    process.stderr.write(
      `output, seconds from the first byte to the last (whole runs): floor ` +
        `${seconds(floors, (one) => one.seconds)} (${seconds(floors, (one) => one.wall)}); ` +
        `keepalive ${seconds(runs, (one) => one.seconds)} (${seconds(runs, (one) => one.wall)}); ` +
        `sed ${seconds(peers, (one) => one.seconds)}; ` +
        `Node relaying ${seconds(relays, (one) => one.seconds)}; keepalive's CPU user+system ms ` +
        `${cpu.join(' ')}; paired ratios ${ratios.map((one) => one.toFixed(2)).join(' ')}; ` +
        `splitter alone ${alone.splitMs.toFixed(0)} ms, prefixer alone ` +
        `${alone.prefixMs.toFixed(0)} ms for ${mb} MB\n`,
    );
    const rate = (list: Timed[], pick: (one: Timed) => number): Stats =>
      stats(list.map((one) => total / pick(one)));
    const lostOrBad = check.bad + (lost ? 1 : 0);
    return [
      {
        part: 'output',
        measure:
          `${NAMES.length} x ${mb} MB of ${LINE}-byte lines, prefixed, into a pipe ` +
          '(first byte to last)',
        unit: 'MB/s',
        keepalive: rate(runs, (one) => one.seconds),
        floor: rate(floors, (one) => one.seconds),
        floorName: '(cat relaying the same writers)',
        budget:
          `>= ${BUDGET}x the floor (paired by round: ${ratio.median.toFixed(2)}x, ` +
          `${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
        withinBudget: ratio.median >= BUDGET,
      },
      {
        part: 'output',
        measure: "the same, whole runs (Node's start, the spawns and the exits included)",
        unit: 'MB/s',
        keepalive: rate(runs, (one) => one.wall),
        floor: rate(floors, (one) => one.wall),
        floorName: '(cat relaying the same writers)',
      },
      {
        part: 'output',
        measure: 'the same, each writer through its own sed (a peer doing the per-line work in C)',
        unit: 'MB/s',
        keepalive: rate(runs, (one) => one.seconds),
        floor: rate(peers, (one) => one.seconds),
        floorName: '(sed)',
      },
      {
        part: 'output',
        measure: 'the same, Node passing the bytes on as they come (no lines, no prefix)',
        unit: 'MB/s',
        keepalive: rate(runs, (one) => one.seconds),
        floor: rate(relays, (one) => one.seconds),
        floorName: '(Node relaying)',
      },
      {
        part: 'output',
        measure: 'lines torn, mixed, lost or out of order (a checked run)',
        unit: 'lines',
        keepalive: stats([lostOrBad]),
        budget: lostOrBad === 0 ? 'none' : `none: ${check.firstBad ?? 'lines lost'}`,
        withinBudget: lostOrBad === 0,
      },
    ];
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 5;
  const rows = await run({ smoke: process.argv.includes('--smoke'), rounds });
  process.stdout.write(`${markdown(rows)}\n`);
}
