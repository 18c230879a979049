// Idle cost: resident memory and CPU ticks over a quiet period, keepalive with a sleeping child,
// and keepalive watching a child that beats every 300 ms (--heartbeat 1s), against an idle `node`
// process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, startKeepalive, stats, stderrLine, usage, type Row } from './lib.js';

/**
 * Steady state: V8 finishes start-up work in the first ~10 seconds (a memory-reducing GC runs
 * about 8 seconds in), so measuring starts after `settleSeconds`.
 */
async function measure(
  child: ChildProcess,
  seconds: number,
  settleSeconds: number,
): Promise<{ rssMb: number; ticks: number; cpuMs: number }> {
  await sleep(settleSeconds * 1000);
  const before = usage(child.pid as number);
  await sleep(seconds * 1000);
  const after = usage(child.pid as number);
  child.kill('SIGTERM');
  await exited(child);
  return {
    rssMb: after.rssKb / 1024,
    ticks: after.ticks - before.ticks,
    cpuMs: after.cpuMs - before.cpuMs,
  };
}

/** Beats on the notify channel (fd 3, KEEPALIVE_NOTIFY_FD) every 300 ms. */
const BEATING = 'while :; do echo >&3; sleep 0.3; done';

async function started(args: readonly string[]): Promise<ChildProcess> {
  const keepalive = startKeepalive(args, 'pipe');
  await stderrLine(keepalive, /started/);
  return keepalive;
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const seconds = smoke ? 2 : 30;
  const settle = smoke ? 1 : 12;
  const node = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: 'ignore',
  });
  // The beats' own floor: a bare Node woken by each beat and reading it, as cheaply as Node can.
  const reader = spawn(process.execPath, ['-e', BARE_READER, BEATING, KOFFI], { stdio: 'ignore' });
  // And the least a watchdog adds to it: a 1 s timer restarted by each beat.
  const watcher = spawn(process.execPath, ['-e', BARE_WATCHDOG, BEATING, KOFFI], {
    stdio: 'ignore',
  });
  const [sleeping, watching] = await Promise.all([
    started(['--', 'sleep', '100000']),
    started(['--heartbeat', '1s', '--', 'sh', '-c', BEATING]),
  ]);
  // All five measured side by side over the same seconds.
  const [floor, quiet, beating, bare, timed] = await Promise.all([
    measure(node, seconds, settle),
    measure(sleeping, seconds, settle),
    measure(watching, seconds, settle),
    measure(reader, seconds, settle),
    measure(watcher, seconds, settle),
  ]);
  const window = `over ${seconds}s after ${settle}s`;
  return [
    ...rows('sleeping child', quiet, floor, window, 0),
    ...rows('child beating every 300 ms, --heartbeat 1s', beating, floor, window, 1),
    {
      part: 'idle',
      measure: `CPU ticks ${window}, child beating every 300 ms, beside a bare Node reading the same beats`,
      unit: 'ticks',
      keepalive: stats([beating.ticks]),
      floor: stats([bare.ticks]),
      floorName: 'bare `node` reading each into one buffer',
    },
    {
      part: 'idle',
      measure: `CPU time ${window} (schedstat, to the nanosecond), child beating every 300 ms, beside a bare Node reading the same beats`,
      unit: 'ms',
      keepalive: stats([beating.cpuMs]),
      floor: stats([bare.cpuMs]),
      floorName: 'bare `node` reading each into one buffer',
      budget: '≤ 1.5× floor',
      withinBudget: beating.cpuMs <= 1.5 * bare.cpuMs,
    },
    {
      part: 'idle',
      measure: `CPU time ${window} (schedstat), child beating every 300 ms, beside a bare Node reading the same beats and restarting a 1 s timer on each`,
      unit: 'ms',
      keepalive: stats([beating.cpuMs]),
      floor: stats([timed.cpuMs]),
      floorName: 'bare `node` reading each beat and restarting a timer',
    },
  ];
}

const KOFFI = createRequire(import.meta.url).resolve('koffi');

/**
 * A Node that starts the beating shell with a pipe at fd 3 and only reads it: an epoll wake-up and
 * one read into a buffer it reuses (net.Socket's `onread`, no allocation per read), the cheapest
 * way Node has. The pipe is made through koffi, as keepalive's is. It ends its shell on SIGTERM.
 */
const BARE_READER = `
  const koffi = require(process.argv[2]);
  const libc = koffi.load('libc.so.6');
  const fds = [0, 0];
  libc.func('int pipe2(_Out_ int *fds, int flags)')(fds, 0o2000000);
  const child = require('node:child_process').spawn('sh', ['-c', process.argv[1]], { stdio: ['ignore', 'ignore', 'ignore', fds[1]] });
  libc.func('int close(int)')(fds[1]);
  new (require('node:net').Socket)({ fd: fds[0], readable: true, writable: false, onread: { buffer: Buffer.alloc(4096), callback() {} } });
  process.on('SIGTERM', () => { child.kill('SIGKILL'); process.exit(0); });`;

/**
 * The bare reader plus a watchdog's one timer, restarted (refresh, no new timer) by each read: one
 * more wake-up a second, when the timer's first deadline comes and Node sets it again.
 */
const BARE_WATCHDOG = BARE_READER.replace(
  'callback() {}',
  'callback() { watchdog.refresh(); }',
).replace('const koffi', 'const watchdog = setTimeout(() => process.exit(3), 1000); const koffi');

type Usage = Awaited<ReturnType<typeof measure>>;

/**
 * RSS and CPU ticks of one keepalive beside the idle `node`; the budget allows `maxTicks`.
 */
function rows(child: string, ours: Usage, floor: Usage, window: string, maxTicks: number): Row[] {
  const single = (value: number) => stats([value]);
  return [
    {
      part: 'idle',
      measure: `RSS, ${child}`,
      unit: 'MB',
      keepalive: single(ours.rssMb),
      floor: single(floor.rssMb),
      floorName: 'idle `node`',
      budget: '≤ 1.35× floor',
      withinBudget: ours.rssMb <= 1.35 * floor.rssMb,
    },
    {
      part: 'idle',
      measure: `CPU ticks ${window}, ${child}`,
      unit: 'ticks',
      keepalive: single(ours.ticks),
      floor: single(floor.ticks),
      floorName: 'idle `node`',
      budget: maxTicks === 0 ? '0 ticks' : `≤ ${maxTicks} tick${maxTicks === 1 ? '' : 's'}`,
      withinBudget: ours.ticks <= maxTicks,
    },
  ];
}
