// Crash-loop endurance: many zero-delay restarts; keepalive's memory and open files must stay flat.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stats, type Row } from './lib.js';

interface Sample { rssMb: number; heapMb: number; fds: number }

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const restarts = smoke ? 300 : 10_000;
  const earlyAt = Math.min(500, Math.floor(restarts / 2));
  const worker = fileURLToPath(new URL('./endurance-worker.js', import.meta.url));
  const output = execFileSync(process.execPath, ['--expose-gc', worker, String(restarts)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const { early, end } = JSON.parse(output) as { early: Sample; end: Sample };
  const single = (value: number) => stats([value]);
  return [
    {
      part: 'endurance',
      measure: `RSS after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'MB',
      keepalive: single(end.rssMb),
      floor: single(early.rssMb),
      floorName: '',
      budget: `growth ≤ 5 MB from restart ${earlyAt}`,
      withinBudget: end.rssMb - early.rssMb <= 5,
    },
    {
      part: 'endurance',
      measure: `heap used after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'MB',
      keepalive: single(end.heapMb),
      floor: single(early.heapMb),
      floorName: '',
    },
    {
      part: 'endurance',
      measure: `open fds after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'fds',
      keepalive: single(end.fds),
      floor: single(early.fds),
      floorName: '',
      budget: 'unchanged',
      withinBudget: end.fds === early.fds,
    },
  ];
}
