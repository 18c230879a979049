// Shared pieces of the benchmarks: the stamping child, statistics, /proc readings, the report.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
export const SOURCE_DIR = fileURLToPath(new URL('../../../scripts/bench/', import.meta.url));

const compiled = new Map<string, string>();
/** Compiles scripts/bench/NAME.c once per run. */
function cProgram(name: string): string {
  const known = compiled.get(name);
  if (known) return known;
  const out = join(mkdtempSync(join(tmpdir(), 'keepalive-bench-')), name);
  execFileSync('cc', ['-O2', '-o', out, join(SOURCE_DIR, `${name}.c`)]);
  compiled.set(name, out);
  return out;
}

/** The stamping child (stamp.c). */
export const stampProgram = (): string => cProgram('stamp');
/** The C restart loop (spawn-loop.c): fork, exec, waitpid. */
export const spawnLoopProgram = (): string => cProgram('spawn-loop');
/** The output benchmark's sink (output-sink.c): reads to the end, times first byte to last. */
export const outputSinkProgram = (): string => cProgram('output-sink');

export function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'keepalive-bench-')), name);
}

/** Monotonic nanoseconds, the clock the stamp program writes. */
export const nowNs = (): bigint => process.hrtime.bigint();

export function readStamps(file: string): bigint[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map((line) => BigInt(line));
}

export const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

export interface Stats {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    n: sorted.length,
    median: at(0.5),
    p99: at(0.99),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export function gaps(stamps: readonly bigint[]): number[] {
  const result: number[] = [];
  for (let i = 1; i < stamps.length; i++)
    result.push(nsToMs((stamps[i] as bigint) - (stamps[i - 1] as bigint)));
  return result;
}

/**
 * Resident memory now and at its peak (kB), and CPU ticks (user + system) of a live process, from
 * /proc; `cpuMs`: the same CPU time to the nanosecond, summed over its threads' schedstat (the
 * ticks are whole 10 ms steps: 9 ms read as 0 or 1 tick, 11 ms as 1 or 2).
 */
export function usage(pid: number): {
  rssKb: number;
  peakRssKb: number;
  ticks: number;
  cpuMs: number;
} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let cpuNs = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return {
    rssKb: kb('VmRSS'),
    peakRssKb: kb('VmHWM'),
    ticks: Number(fields[11]) + Number(fields[12]),
    cpuMs: cpuNs / 1e6,
  };
}

let clockTicks: number | undefined;
/** The kernel's clock ticks per second (USER_HZ), the unit of the CPU times in /proc. */
export function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return clockTicks;
}

export function openFds(pid: number | 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function startKeepalive(
  args: readonly string[],
  stdio: 'ignore' | 'pipe' = 'ignore',
): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', stdio] });
}

export async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

/**
 * Resolves with the first match of `pattern` in all that `stream` has said so far; rejects if it
 * ends first, so a benchmark whose process died fails instead of waiting forever.
 */
export function matchOn(stream: Readable | null, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stream to read'));
    let seen = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) resolve(match);
    });
    stream.on('end', () =>
      reject(new Error(`the output ended without ${pattern}: ${seen.slice(-500)}`)),
    );
  });
}

/** Resolves when `child`'s stderr shows a line matching `pattern`. */
export async function stderrLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  await matchOn(child.stderr, pattern);
}

/** One row of the report: a keepalive figure beside its floor measured in the same run. */
export interface Row {
  part: string;
  measure: string;
  unit: string;
  keepalive: Stats;
  floor?: Stats;
  floorName?: string;
  /** What the figure must stay within, in words, and whether it does. */
  budget?: string;
  withinBudget?: boolean;
}

export const round = (value: number): number =>
  Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;

function cell(stat: Stats | undefined, unit: string): string {
  if (!stat) return '';
  return `${round(stat.median)} ${unit} (${round(stat.min)}–${round(stat.max)})`;
}

export function markdown(rows: readonly Row[]): string {
  const lines = [
    '| part | measure | keepalive: median (range) | floor: median (range) | ratio | budget |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const ratio =
      row.floor && row.floor.median > 0 ? `${round(row.keepalive.median / row.floor.median)}×` : '';
    const floor = row.floor ? `${cell(row.floor, row.unit)} ${row.floorName ?? ''}`.trim() : '';
    const budget = row.budget ? `${row.budget} ${row.withinBudget ? '✓' : '✗'}` : '';
    lines.push(
      `| ${row.part} | ${row.measure} | ${cell(row.keepalive, row.unit)} | ${floor} | ${ratio} | ${budget} |`,
    );
  }
  return lines.join('\n');
}

/** The median of several runs' medians, with the range of those medians. */
export function overRuns(perRun: readonly Stats[], pick: (stat: Stats) => number): Stats {
  return stats(perRun.map(pick));
}
