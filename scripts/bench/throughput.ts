// Notify-channel throughput: the lines a second keepalive absorbs from a child flooding its
// channel, keepalive's CPU per million lines, and its memory while flooded; then the CPU that an
// ordinary child beating every 100 ms costs it. The flooder's blocking writes are paced by the
// pipe's back-pressure, so the lines it managed to write are the lines keepalive read. No floor:
// nothing but keepalive reads this channel.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI, exited, matchOn, stats, ticksPerSecond, usage, type Row } from './lib.js';

const FLOODS: Record<string, string> = {
  'empty lines': '\n',
  'WATCHDOG=1 lines': 'WATCHDOG=1\n',
  'garbage lines (not KEY=VALUE)': 'not a message at all\n',
  'STATUS= lines': 'STATUS=working on job 12345\n',
};

const FLOOD_CHILD = fileURLToPath(new URL('./flood-child.js', import.meta.url));

/** The same floods on $NOTIFY_SOCKET, one sd_notify message a datagram, from a Python sender. */
const DATAGRAMS: Record<string, string> = {
  'WATCHDOG=1 datagrams': 'WATCHDOG=1',
  'STATUS= datagrams': 'STATUS=working on job 12345',
  'garbage datagrams': 'not a message at all',
};
const DATAGRAM_FLOOD = fileURLToPath(
  new URL('../../../scripts/bench/datagram-flood.py', import.meta.url),
);

/**
 * keepalive with its stdout (which the child inherits) piped to us, so we see the child's words.
 */
function keepalive(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [CLI, '-q', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function stopped(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await exited(child);
}

const cpuMs = (ticks: number): number => (ticks * 1000) / ticksPerSecond();

interface Flood {
  millionPerSecond: number;
  cpuMsPerMillion: number;
  rssMb: number;
  peakRssMb: number;
}

async function flood(line: string, ms: number, datagrams = false): Promise<Flood> {
  // The watchdog is on, so beats are parsed as beats; the grace outlasts a flood that never beats.
  const child = datagrams
    ? ['python3', DATAGRAM_FLOOD, line, String(ms)]
    : [process.execPath, FLOOD_CHILD, line, String(ms)];
  const ours = keepalive([
    '--heartbeat',
    '2s',
    '--heartbeat-grace',
    '20s',
    '--restart',
    'never',
    '--',
    ...child,
  ]);
  const pid = ours.pid as number;
  // Both waiters from the start: the two lines may come in one chunk.
  const started = matchOn(ours.stdout, /^start$/m);
  const ended = matchOn(ours.stdout, /^(?:lines|datagrams) (\d+)$/m);
  await started;
  const before = usage(pid).ticks;
  const from = performance.now();
  const lines = Number((await ended)[1]);
  const seconds = (performance.now() - from) / 1000;
  const after = usage(pid);
  await stopped(ours);
  const millions = lines / 1e6;
  return {
    millionPerSecond: millions / seconds,
    cpuMsPerMillion: cpuMs(after.ticks - before) / millions,
    rssMb: after.rssKb / 1024,
    peakRssMb: after.peakRssKb / 1024,
  };
}

/** keepalive's CPU (ms) while its child beats every 100 ms, `beats` times. */
async function beating(beats: number): Promise<number> {
  const script = `echo start; i=0; while [ $i -lt ${beats} ]; do echo >&3; sleep 0.1; i=$((i+1)); done; echo done; exec sleep 1000`;
  const ours = keepalive(['--heartbeat', '1s', '--', 'sh', '-c', script]);
  const started = matchOn(ours.stdout, /^start$/m);
  const done = matchOn(ours.stdout, /^done$/m);
  await started;
  const before = usage(ours.pid as number).ticks;
  await done;
  const ticks = usage(ours.pid as number).ticks - before;
  await stopped(ours);
  return cpuMs(ticks);
}

function row(measure: string, unit: string, values: number[]): Row {
  return { part: 'notify throughput', measure, unit, keepalive: stats(values) };
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const seconds = smoke ? 0.15 : 3;
  const runs = smoke ? 1 : 3;
  const result: Row[] = [];
  for (const [what, line] of Object.entries(FLOODS)) {
    const floods: Flood[] = [];
    for (let i = 0; i < runs; i++) floods.push(await flood(line, seconds * 1000));
    const each = (pick: (one: Flood) => number): number[] => floods.map(pick);
    result.push(
      row(
        `lines absorbed, ${what}, ${seconds}s floods × ${runs} runs`,
        'M/s',
        each((one) => one.millionPerSecond),
      ),
      row(
        `keepalive CPU per million lines, ${what}`,
        'ms',
        each((one) => one.cpuMsPerMillion),
      ),
      row(
        `keepalive RSS at the flood's end, ${what}`,
        'MB',
        each((one) => one.rssMb),
      ),
      row(
        `keepalive peak RSS, ${what}`,
        'MB',
        each((one) => one.peakRssMb),
      ),
    );
  }
  for (const [what, message] of Object.entries(DATAGRAMS)) {
    const floods: Flood[] = [];
    for (let i = 0; i < runs; i++) floods.push(await flood(message, seconds * 1000, true));
    const each = (pick: (one: Flood) => number): number[] => floods.map(pick);
    result.push(
      row(
        `$NOTIFY_SOCKET datagrams absorbed, ${what}, ${seconds}s floods × ${runs} runs`,
        'M/s',
        each((one) => one.millionPerSecond),
      ),
      row(
        `keepalive CPU per million datagrams, ${what}`,
        'ms',
        each((one) => one.cpuMsPerMillion),
      ),
      row(
        `keepalive peak RSS, ${what}`,
        'MB',
        each((one) => one.peakRssMb),
      ),
    );
  }
  const beats = Math.max(3, seconds * 10);
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) cpu.push(await beating(beats));
  result.push(
    row(
      `keepalive CPU, child beating every 100 ms for ${beats / 10}s (--heartbeat 1s), ${runs} runs`,
      'ms',
      cpu,
    ),
  );
  return result;
}
