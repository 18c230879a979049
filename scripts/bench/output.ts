// A set's output: 4 processes each writing 100 MB of 100-byte lines through the prefixer, into a
// pipe read by `cat > /dev/null` (a terminal-less sink, as a container's log is), beside the floor
// from the same run: the same 4 writers into one pipe read by `cat`, writing to the same kind of
// sink (a relay that does nothing to the bytes). Budget: at least 0.7x the floor's throughput.
// Then a checked run: every line whole, prefixed with its own process's name, none lost, each
// process's lines in order. Also the splitter and prefixer alone, in this process, without I/O:
// the part of keepalive's time that is its own JavaScript.
// Usage: node build/scripts/bench/output.js [--smoke]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../../src/output/lines.js';
import { prefixedOutput } from '../../src/output/prefixed.js';
import { markdown, stats, tempFile, type Row } from './lib.js';

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

/** `cat > /dev/null` reading a pipe: the sink both sides write to. */
function sink(): ChildProcess {
  return spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'inherit', 'inherit'] });
}

async function ended(child: ChildProcess): Promise<number> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return child.exitCode ?? 1;
}

/** The floor: 4 `cat FILE` into one pipe, relayed by `cat` into the sink. Seconds. */
async function floor(file: string): Promise<number> {
  const into = sink();
  const started = performance.now();
  const relay = spawn('cat', [], { stdio: ['pipe', into.stdin ?? 'ignore', 'inherit'] });
  const writers = NAMES.map(() =>
    spawn('cat', [file], { stdio: ['ignore', relay.stdin ?? 'ignore', 'inherit'] }),
  );
  relay.stdin?.destroy();
  into.stdin?.destroy();
  await Promise.all(writers.map(ended));
  await ended(relay);
  await ended(into);
  return (performance.now() - started) / 1000;
}

/**
 * A peer that does the same per-line work in C: each writer through `sed 's/^/name | /'` into
 * the sink (4 seds beside each other; their lines may tear, only the speed is compared). Seconds.
 */
async function peer(file: string): Promise<number> {
  const into = sink();
  const started = performance.now();
  const width = Math.max(...NAMES.map((name) => name.length));
  const writers = NAMES.map((name) =>
    spawn('sh', ['-c', `cat "$1" | sed "s/^/${name.padEnd(width)} | /"`, 'sh', file], {
      stdio: ['ignore', into.stdin ?? 'ignore', 'inherit'],
    }),
  );
  into.stdin?.destroy();
  await Promise.all(writers.map(ended));
  await ended(into);
  return (performance.now() - started) / 1000;
}

interface Ours {
  seconds: number;
  userMs: number;
  systemMs: number;
}

/** keepalive's side: the 4 writers through the prefixer (output-set.js) into the sink. */
async function ours(file: string, into: 'sink' | 'check'): Promise<Ours & { check?: Check }> {
  const to = into === 'sink' ? sink() : undefined;
  const started = performance.now();
  const set = spawn(process.execPath, [SET, file, ...NAMES], {
    stdio: ['ignore', to?.stdin ?? 'pipe', 'pipe'],
  });
  to?.stdin?.destroy();
  let cpu = '';
  set.stderr?.on('data', (chunk: Buffer) => (cpu += chunk.toString()));
  const check = set.stdout ? checkLines(set.stdout) : undefined;
  const code = await ended(set);
  const seconds = (performance.now() - started) / 1000;
  if (to) await ended(to);
  if (code !== 0) throw new Error(`output-set exited with ${code}: ${cpu}`);
  const usage = JSON.parse(cpu.trim().split('\n').at(-1) ?? '{}') as Ours;
  return { ...usage, seconds, ...(check ? { check: await check } : {}) };
}

interface Check {
  lines: number;
  bad: number;
  firstBad?: string;
  /** Per name: the next number due (all equal to the line count when none was lost). */
  next: Record<string, number>;
}

/** Reads the prefixed lines: `name | NNNNNNNNNN xxx...`, each name's numbers following on. */
function checkLines(stream: NodeJS.ReadableStream): Promise<Check> {
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

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const mb = smoke ? 10 : 100;
  const file = linesFile(mb);
  const total = (NAMES.length * mb * 1e6) / 1e6;
  try {
    // Alternated, three of each: the machine's other load falls on both alike.
    const floors: number[] = [];
    const peers: number[] = [];
    const runs: Ours[] = [];
    for (let round = 0; round < 3; round++) {
      floors.push(await floor(file));
      runs.push(await ours(file, 'sink'));
      peers.push(await peer(file));
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const floorS = median(floors);
    const oursS = median(runs.map((one) => one.seconds));
    const best = runs.find((one) => one.seconds === oursS) as Ours;
    const checked = await ours(file, 'check');
    const check = checked.check as Check;
    const expected = (mb * 1e6) / LINE;
    const lost = Object.values(check.next).some((next) => next !== expected);
    const alone = await inProcess(file);
    // The fixed cost in `ours`: Node's start and the runs' spawns, with nothing to read.
    const empty = tempFile('empty');
    writeFileSync(empty, '');
    const fixed = (await ours(empty, 'sink')).seconds;
    rmSync(dirname(empty), { recursive: true, force: true });
    const ratio = floorS / oursS;
    process.stderr.write(
      `output: floor ${floors.map((s) => s.toFixed(2)).join(' ')} s; sed ` +
        `${peers.map((s) => s.toFixed(2)).join(' ')} s; ours ` +
        `${runs.map((one) => one.seconds.toFixed(2)).join(' ')} s; CPU user ` +
        `${best.userMs.toFixed(0)} ms, system ${best.systemMs.toFixed(0)} ms (the median run); ` +
        `splitter alone ${alone.splitMs.toFixed(0)} ms, prefixer alone ` +
        `${alone.prefixMs.toFixed(0)} ms for ${mb} MB; ` +
        `start and end with empty output ${fixed.toFixed(2)} s\n`,
    );
    const lostOrBad = check.bad + (lost ? 1 : 0);
    return [
      {
        part: 'output',
        measure: `${NAMES.length} x ${mb} MB of ${LINE}-byte lines, prefixed, into a pipe`,
        unit: 'MB/s',
        keepalive: stats(runs.map((one) => total / one.seconds)),
        floor: stats(floors.map((seconds) => total / seconds)),
        floorName: '(cat relaying the same writers)',
        budget: `>= ${BUDGET}x the floor (${ratio.toFixed(2)}x)`,
        withinBudget: ratio >= BUDGET,
      },
      {
        part: 'output',
        measure: 'the same, without the fixed cost (Node start, spawns: a run with empty output)',
        unit: 'MB/s',
        keepalive: stats(runs.map((one) => total / Math.max(one.seconds - fixed, 1e-3))),
        floor: stats(floors.map((seconds) => total / seconds)),
        floorName: '(cat relaying the same writers)',
      },
      {
        part: 'output',
        measure: 'the same, each writer through its own sed (a peer doing the per-line work in C)',
        unit: 'MB/s',
        keepalive: stats(runs.map((one) => total / one.seconds)),
        floor: stats(peers.map((seconds) => total / seconds)),
        floorName: '(sed)',
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
  const rows = await run({ smoke: process.argv.includes('--smoke') });
  process.stdout.write(`${markdown(rows)}\n`);
}
