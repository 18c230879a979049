// Signal forwarding: SIGUSR1 to keepalive → the child's handler runs; against signalling the child
// directly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  exited,
  nowNs,
  nsToMs,
  readStamps,
  startKeepalive,
  stampProgram,
  stats,
  tempFile,
  type Row,
} from './lib.js';

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(1);
  }
}

async function latencies(target: ChildProcess, file: string, count: number): Promise<number[]> {
  await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('ready'));
  const result: number[] = [];
  for (let i = 0; i < count; i++) {
    const sent = nowNs();
    process.kill(target.pid as number, 'SIGUSR1');
    await until(() => readStamps(file).length > i);
    result.push(nsToMs((readStamps(file)[i] as bigint) - sent));
  }
  target.kill('SIGTERM');
  await exited(target);
  return result;
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const count = smoke ? 10 : 200;
  const directFile = tempFile('stamps');
  const direct = spawn(stampProgram(), [directFile, 'signals'], { stdio: 'ignore' });
  const floor = stats(await latencies(direct, directFile, count));
  const viaFile = tempFile('stamps');
  const ours = stats(
    await latencies(startKeepalive(['--', stampProgram(), viaFile, 'signals']), viaFile, count),
  );
  return [
    {
      part: 'signal forwarding',
      measure: `SIGUSR1 → child's handler, ${count} signals`,
      unit: 'ms',
      keepalive: ours,
      floor,
      floorName: 'sent to the child directly',
    },
  ];
}
