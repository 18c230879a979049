// Several processes (issue 25): (a) keepalive's RSS with 50 sleeping processes beside its RSS with
// one, and its CPU ticks over 30 s with 50; (b) a chain of 10 processes each ready 100 ms after it
// starts: the time from the first start to the last. Runs on its own (`node
// build/scripts/bench/set.js [--smoke]`) or as the `set` part of run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, markdown, matchOn, stats, stderrLine, usage, type Row } from './lib.js';

const single = (value: number) => stats([value]);

const RUNNER = fileURLToPath(new URL('./set-runner.js', import.meta.url));

function runner(mode: 'sleepers' | 'chain', count: number): ChildProcess {
  return spawn(process.execPath, [RUNNER, mode, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function idle(
  count: number,
  settleSeconds: number,
  seconds: number,
): Promise<{ rssMb: number; ticks: number }> {
  const keepalive = runner('sleepers', count);
  try {
    await stderrLine(keepalive, /started/);
    await sleep(settleSeconds * 1000);
    const before = usage(keepalive.pid as number);
    await sleep(seconds * 1000);
    const after = usage(keepalive.pid as number);
    return { rssMb: after.rssKb / 1024, ticks: after.ticks - before.ticks };
  } finally {
    keepalive.kill('SIGTERM');
    await exited(keepalive);
  }
}

async function chain(links: number): Promise<number> {
  const keepalive = runner('chain', links);
  try {
    const [line] = await matchOn(keepalive.stdout, /\{.*\}/);
    const { first, last } = JSON.parse(line) as { first: number; last: number };
    return last - first;
  } finally {
    keepalive.kill('SIGTERM');
    await exited(keepalive);
  }
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const [settle, window] = smoke ? [2, 5] : [10, 30];
  const one = await idle(1, settle, window);
  const fifty = await idle(50, settle, window);
  const links = 10;
  const chainMs = await chain(links);
  // Each link is ready 100 ms after its start: 9 waits of 100 ms before the last starts.
  const budgetMs = 1100 + 10 * links;
  return [
    {
      part: 'set',
      measure: 'RSS with 50 sleeping processes, beside RSS with one',
      unit: 'MB',
      keepalive: single(fifty.rssMb),
      floor: single(one.rssMb),
      floorName: 'keepalive with one',
      budget: 'at most 1.5x',
      withinBudget: fifty.rssMb <= 1.5 * one.rssMb,
    },
    {
      part: 'set',
      measure: `CPU ticks over ${window} s with 50 sleeping processes`,
      unit: 'ticks',
      keepalive: single(fifty.ticks),
      floor: single(one.ticks),
      floorName: 'keepalive with one',
      budget: '0',
      withinBudget: fifty.ticks === 0,
    },
    {
      part: 'set',
      measure: `a chain of ${links}, each ready 100 ms after its start: first start to last`,
      unit: 'ms',
      keepalive: single(chainMs),
      budget: `at most ${budgetMs} ms`,
      withinBudget: chainMs <= budgetMs,
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${markdown(await run({ smoke: process.argv.includes('--smoke') }))}\n`);
}
