// Idle cost: resident memory and CPU ticks over a quiet period, keepalive with a sleeping child
// against an idle `node` process.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, startKeepalive, stats, stderrLine, usage, type Row } from './lib.js';

/**
 * Steady state: V8 finishes start-up work in the first ~10 seconds (a memory-reducing GC runs
 * about 8 seconds in), so measuring starts after `settleSeconds`.
 */
async function measure(child: ChildProcess, seconds: number, settleSeconds: number): Promise<{ rssMb: number; ticks: number }> {
  await sleep(settleSeconds * 1000);
  const before = usage(child.pid as number);
  await sleep(seconds * 1000);
  const after = usage(child.pid as number);
  child.kill('SIGTERM');
  await exited(child);
  return { rssMb: after.rssKb / 1024, ticks: after.ticks - before.ticks };
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const seconds = smoke ? 2 : 30;
  const settle = smoke ? 1 : 12;
  const node = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  const keepalive = startKeepalive(['--', 'sleep', '100000'], 'pipe');
  await stderrLine(keepalive, /started/);
  // Measured side by side over the same seconds.
  const [floor, ours] = await Promise.all([measure(node, seconds, settle), measure(keepalive, seconds, settle)]);
  const single = (value: number) => stats([value]);
  return [
    {
      part: 'idle',
      measure: `RSS, sleeping child`,
      unit: 'MB',
      keepalive: single(ours.rssMb),
      floor: single(floor.rssMb),
      floorName: 'idle `node`',
      budget: '≤ 1.35× floor',
      withinBudget: ours.rssMb <= 1.35 * floor.rssMb,
    },
    {
      part: 'idle',
      measure: `CPU ticks over ${seconds}s after ${settle}s, sleeping child`,
      unit: 'ticks',
      keepalive: single(ours.ticks),
      floor: single(floor.ticks),
      floorName: 'idle `node`',
      budget: '0 ticks',
      withinBudget: ours.ticks === 0,
    },
  ];
}
