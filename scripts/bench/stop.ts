// Stop latency: SIGTERM to keepalive → keepalive gone, with a child that exits on SIGTERM at once;
// against the same child's own exit when signalled directly.
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, nowNs, nsToMs, startKeepalive, stats, stderrLine, type Row } from './lib.js';

async function timeToExit(child: ChildProcess, target: number): Promise<number> {
  const sent = nowNs();
  process.kill(target, 'SIGTERM');
  await exited(child);
  return nsToMs(nowNs() - sent);
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const runs = smoke ? 3 : 30;
  const ours: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    floor.push(await timeToExit(sleeper, sleeper.pid as number));

    const keepalive = startKeepalive(['--', 'sleep', '1000'], 'pipe');
    await stderrLine(keepalive, /started/);
    ours.push(await timeToExit(keepalive, keepalive.pid as number));
  }
  const keepalive = stats(ours);
  const bare = stats(floor);
  return [
    {
      part: 'stop',
      measure: `SIGTERM → gone, ${runs} runs`,
      unit: 'ms',
      keepalive,
      floor: bare,
      floorName: 'the child alone',
      budget: '≤ floor + 50 ms',
      withinBudget: keepalive.median <= bare.median + 50,
    },
  ];
}
