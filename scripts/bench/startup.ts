// Start-up: from launching keepalive to its child's first instruction, against `node -e` spawning
// the same child directly.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { nowNs, nsToMs, readStamps, stampProgram, stats, tempFile, CLI, type Row } from './lib.js';

async function launchToStamp(args: (file: string) => string[]): Promise<number> {
  const file = tempFile('stamps');
  const started = nowNs();
  const child = spawn(process.execPath, args(file), { stdio: 'ignore' });
  await once(child, 'exit');
  const [stamp] = readStamps(file);
  if (stamp === undefined) throw new Error('the child never started');
  return nsToMs(stamp - started);
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const runs = smoke ? 3 : 30;
  const ours: number[] = [];
  const floor: number[] = [];
  const direct = "require('node:child_process').spawn(process.argv[1], [process.argv[2]], { stdio: 'inherit' })";
  for (let i = 0; i < runs; i++) {
    floor.push(await launchToStamp((file) => ['-e', direct, stampProgram(), file]));
    ours.push(await launchToStamp((file) => [CLI, '-q', '--restart', 'never', '--', stampProgram(), file]));
  }
  const keepalive = stats(ours);
  const bare = stats(floor);
  return [
    {
      part: 'start-up',
      measure: `launch → child started, ${runs} runs`,
      unit: 'ms',
      keepalive,
      floor: bare,
      floorName: '`node -e` spawning it',
      budget: '≤ 1.5× floor',
      withinBudget: keepalive.median <= 1.5 * bare.median,
    },
  ];
}
