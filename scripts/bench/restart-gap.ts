// Restart gap: a child that stamps the time and exits 1 at once, restarted with zero delay.
// Floors: a bare Node loop that spawns the same child again on each 'exit', and a C loop of
// fork, exec and waitpid (what spawning can cost at all).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import {
  exited,
  gaps,
  overRuns,
  readStamps,
  spawnLoopProgram,
  startKeepalive,
  stampProgram,
  stats,
  tempFile,
  type Row,
  type Stats,
} from './lib.js';

async function keepaliveRun(restarts: number): Promise<Stats> {
  const file = tempFile('stamps');
  const keepalive = startKeepalive([
    '-q',
    '--delay',
    '0',
    '--max-restarts',
    String(restarts),
    '--restart-window',
    '1h',
    '--',
    stampProgram(),
    file,
  ]);
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

function cFloorRun(restarts: number): Stats {
  const file = tempFile('stamps');
  execFileSync(spawnLoopProgram(), [String(restarts + 1), stampProgram(), file], {
    stdio: 'ignore',
  });
  return stats(gaps(readStamps(file)));
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const restarts = smoke ? 50 : 1000;
  const runs = smoke ? 1 : 5;
  const ours: Stats[] = [];
  const floor: Stats[] = [];
  const cFloor: Stats[] = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await floorRun(restarts));
    cFloor.push(cFloorRun(restarts));
    ours.push(await keepaliveRun(restarts));
  }
  const median = overRuns(ours, (stat) => stat.median);
  const p99 = overRuns(ours, (stat) => stat.p99);
  const floorMedian = overRuns(floor, (stat) => stat.median);
  const floorP99 = overRuns(floor, (stat) => stat.p99);
  const node = 'bare Node spawn loop';
  const c = 'C fork/exec/waitpid loop';
  return [
    {
      part: 'restart gap',
      measure: `median gap, ${restarts} restarts × ${runs} runs, --delay 0`,
      unit: 'ms',
      keepalive: median,
      floor: floorMedian,
      floorName: node,
      budget: '≤ 1.25× floor',
      withinBudget: median.median <= 1.25 * floorMedian.median,
    },
    {
      part: 'restart gap',
      measure: 'p99 gap',
      unit: 'ms',
      keepalive: p99,
      floor: floorP99,
      floorName: node,
      budget: '≤ 1.5× floor',
      withinBudget: p99.median <= 1.5 * floorP99.median,
    },
    {
      part: 'restart gap',
      measure: 'median gap',
      unit: 'ms',
      keepalive: median,
      floor: overRuns(cFloor, (stat) => stat.median),
      floorName: c,
    },
    {
      part: 'restart gap',
      measure: 'p99 gap',
      unit: 'ms',
      keepalive: p99,
      floor: overRuns(cFloor, (stat) => stat.p99),
      floorName: c,
    },
  ];
}
