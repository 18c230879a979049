// Restart gap: a child that stamps the time and exits 1 at once, restarted with zero delay.
// Floor: a bare Node loop that spawns the same child again on each 'exit'.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { exited, gaps, overRuns, readStamps, startKeepalive, stampProgram, stats, tempFile, type Row, type Stats } from './lib.js';

async function keepaliveRun(restarts: number): Promise<Stats> {
  const file = tempFile('stamps');
  const keepalive = startKeepalive(['-q', '--delay', '0', '--max-restarts', String(restarts), '--restart-window', '1h', '--', stampProgram(), file]);
  await exited(keepalive);
  return stats(gaps(readStamps(file)));
}

async function floorRun(restarts: number): Promise<Stats> {
  const file = tempFile('stamps');
  const loop = `
    const { spawn } = require('node:child_process');
    let left = ${restarts + 1};
    const start = () => spawn(process.argv[1], [process.argv[2]], { stdio: 'inherit' }).on('exit', () => { if (--left > 0) start(); });
    start();`;
  const child = spawn(process.execPath, ['-e', loop, stampProgram(), file], { stdio: 'ignore' });
  await once(child, 'exit');
  return stats(gaps(readStamps(file)));
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const restarts = smoke ? 50 : 1000;
  const runs = smoke ? 1 : 5;
  const ours: Stats[] = [];
  const floor: Stats[] = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await floorRun(restarts));
    ours.push(await keepaliveRun(restarts));
  }
  const median = overRuns(ours, (stat) => stat.median);
  const floorMedian = overRuns(floor, (stat) => stat.median);
  return [
    {
      part: 'restart gap',
      measure: `median gap, ${restarts} restarts × ${runs} runs, --delay 0`,
      unit: 'ms',
      keepalive: median,
      floor: floorMedian,
      floorName: 'bare Node spawn loop',
      budget: '≤ 1.2× floor',
      withinBudget: median.median <= 1.2 * floorMedian.median,
    },
    {
      part: 'restart gap',
      measure: 'p99 gap',
      unit: 'ms',
      keepalive: overRuns(ours, (stat) => stat.p99),
      floor: overRuns(floor, (stat) => stat.p99),
      floorName: 'bare Node spawn loop',
    },
  ];
}
