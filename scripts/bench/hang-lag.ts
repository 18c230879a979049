// Hang detection lag: from a missed heartbeat deadline to keepalive declaring the child hung (the
// kill is sent in the same tick), and to the child's exit being seen. Two children: a quiet one,
// and one flooding the notify channel with garbage, and one with STATUS= lines, never beating
// again: the floods must delay nothing.
// Floor: in this same process, a bare setTimeout of the same duration that kills the same child
// while reading its channel: the timer's lateness, and its lateness plus the kill until the child
// is gone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { supervise } from '../../src/index.js';
import { overRuns, stats, type Row, type Stats } from './lib.js';

const TIMEOUT_MS = 100;

/** Each beats once on fd 3 (the notify channel), then goes silent. */
const CHILDREN: Record<string, string> = {
  'quiet child': 'echo >&3; exec sleep 1000',
  'child flooding garbage': 'echo >&3; exec yes "not a message" >&3',
  'child flooding STATUS=': 'echo >&3; exec yes "STATUS=busy" >&3',
};

interface Lags {
  declared: number[];
  exited: number[];
}

/** One supervisor restarting the child at once after each hang, so the hangs follow one another. */
async function keepaliveLags(script: string, hangs: number): Promise<Lags> {
  const supervisor = supervise({
    command: 'sh',
    args: ['-c', script],
    heartbeat: TIMEOUT_MS,
    delay: 0,
    name: 'bench',
  });
  const lags: Lags = { declared: [], exited: [] };
  let deadline = 0;
  supervisor.on('hang', (event) => {
    // silentMs is keepalive's own reading of its clock (performance.now) when it declared the hang.
    deadline = performance.now() - event.silentMs + TIMEOUT_MS;
    lags.declared.push(event.silentMs - TIMEOUT_MS);
  });
  supervisor.on('exit', (event) => {
    if (event.outcome.kind === 'hung') lags.exited.push(performance.now() - deadline);
    if (lags.exited.length >= hangs) supervisor.stop('SIGKILL');
  });
  await supervisor.done;
  return lags;
}

/** The floor for one hang: the deadline counts from the child's beat, as keepalive's does. */
async function floorLag(script: string, lags: Lags): Promise<void> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const channel = child.stdio[3] as Readable;
  const beat = once(channel, 'data');
  channel.resume(); // read and drop, as keepalive drops garbage
  await beat;
  const deadline = performance.now() + TIMEOUT_MS;
  await sleep(TIMEOUT_MS);
  lags.declared.push(performance.now() - deadline);
  child.kill('SIGKILL'); // keepalive's default --hang-signal
  await once(child, 'close'); // exited and its channel read to the end, as keepalive waits for both
  lags.exited.push(performance.now() - deadline);
}

async function floorLags(script: string, hangs: number): Promise<Lags> {
  const lags: Lags = { declared: [], exited: [] };
  for (let i = 0; i < hangs; i++) await floorLag(script, lags);
  return lags;
}

interface Series {
  ours: Stats[];
  floor: Stats[];
}

function rows(child: string, lag: 'declared' | 'exited', series: Series, label: string): Row[] {
  const row = (measure: string, pick: (stat: Stats) => number): Row => ({
    part: 'hang lag',
    measure,
    unit: 'ms',
    keepalive: overRuns(series.ours, pick),
    floor: overRuns(series.floor, pick),
    floorName: 'bare setTimeout killing it',
  });
  const what =
    lag === 'declared' ? 'deadline → hung declared, kill sent' : "deadline → child's exit seen";
  return [
    row(`${what}, ${child}, ${label}: median`, (stat) => stat.median),
    row(`${what}, ${child}: p99`, (stat) => stat.p99),
  ];
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const hangs = smoke ? 3 : 100;
  const runs = smoke ? 1 : 3;
  const label = `${hangs} hangs × ${runs} runs, --heartbeat ${TIMEOUT_MS}ms`;
  const result: Row[] = [];
  for (const [child, script] of Object.entries(CHILDREN)) {
    const declared: Series = { ours: [], floor: [] };
    const exited: Series = { ours: [], floor: [] };
    for (let i = 0; i < runs; i++) {
      const floor = await floorLags(script, hangs);
      const ours = await keepaliveLags(script, hangs);
      declared.floor.push(stats(floor.declared));
      exited.floor.push(stats(floor.exited));
      declared.ours.push(stats(ours.declared));
      exited.ours.push(stats(ours.exited));
    }
    result.push(
      ...rows(child, 'declared', declared, label),
      ...rows(child, 'exited', exited, label),
    );
  }
  return result;
}
