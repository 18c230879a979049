#!/usr/bin/env node
// Notify channel throughput: how many lines a second keepalive absorbs from a child flooding its
// channel, the CPU keepalive pays per million lines, and its memory while flooded; then what an
// ordinary beating child costs it.
//
//   npm run build && node scripts/bench/throughput.mjs [seconds-per-flood]
//
// The flooding child writes 64 KiB blocks with blocking writes: the pipe's back-pressure makes it
// exactly as fast as keepalive reads, so the lines it managed to write are the lines keepalive took.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../build/src/cli.js', import.meta.url));
const seconds = Number(process.argv[2] ?? 5);
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

const floods = {
  'empty lines': '\\n',
  'WATCHDOG=1 lines': 'WATCHDOG=1\\n',
  'garbage lines (not KEY=VALUE)': 'not a message at all\\n',
  'STATUS= lines': 'STATUS=working on job 12345\\n',
};

const flooder = (line) => `
  const { writeSync } = await import('node:fs');
  const block = Buffer.from('${line}'.repeat(Math.floor(65536 / '${line}'.length)));
  const perBlock = block.toString().split('\\n').length - 1;
  console.log('start');
  const end = performance.now() + ${seconds * 1000};
  let lines = 0;
  while (performance.now() < end) {
    for (let written = 0; written < block.length; ) written += writeSync(3, block, written);
    lines += perBlock;
  }
  console.log('lines ' + lines);`;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function memoryMb(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((each) => each.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line)[1]) / 1024;
}

/** Runs keepalive on a child; `measure` gets keepalive's pid and the child's stdout lines as they come. */
async function withKeepalive(args, measure) {
  const keepalive = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let waiting;
  keepalive.stdout.setEncoding('utf8').on('data', (chunk) => {
    lines.push(...chunk.split('\n').filter(Boolean));
    waiting?.();
  });
  const next = async (prefix) => {
    for (;;) {
      const found = lines.find((line) => line.startsWith(prefix));
      if (found) return found;
      await new Promise((resolve) => (waiting = resolve));
    }
  };
  const result = await measure(keepalive.pid, next);
  keepalive.kill('SIGTERM');
  await once(keepalive, 'close');
  return result;
}

console.log(`Channel throughput, ${seconds}s per flood, Node.js ${process.version}`);
console.log('| flood | lines/s absorbed | keepalive CPU per million lines | keepalive RSS (peak) |');
console.log('|---|---|---|---|');
for (const [what, line] of Object.entries(floods)) {
  const args = ['-q', '--heartbeat', '2s', '--heartbeat-grace', '20s', '--restart', 'never', '--', process.execPath, '--input-type=module', '-e', flooder(line)];
  const row = await withKeepalive(args, async (pid, next) => {
    await next('start');
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const lines = Number((await next('lines ')).split(' ')[1]);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpuBefore;
    return { perSecond: lines / elapsed, cpuPerMillion: cpu / (lines / 1e6), rss: memoryMb(pid, 'VmRSS'), peak: memoryMb(pid, 'VmHWM') };
  });
  const millions = (row.perSecond / 1e6).toFixed(1);
  console.log(`| ${what} | ${millions} M | ${(row.cpuPerMillion * 1000).toFixed(0)} ms | ${row.rss.toFixed(0)} MB (${row.peak.toFixed(0)} MB) |`);
}

// The ordinary case: a child beating every 100ms (`--heartbeat 1s`), for the same time.
const idle = await withKeepalive(
  ['-q', '--heartbeat', '1s', '--', 'sh', '-c', `echo start; i=0; while [ $i -lt ${seconds * 10} ]; do echo >&3; sleep 0.1; i=$((i+1)); done; echo done; sleep 1000`],
  async (pid, next) => {
    await next('start');
    const cpuBefore = cpuSeconds(pid);
    await next('done');
    return { cpu: cpuSeconds(pid) - cpuBefore, rss: memoryMb(pid, 'VmRSS') };
  },
);
console.log(`\nA child beating every 100ms for ${seconds}s: keepalive used ${(idle.cpu * 1000).toFixed(0)}ms of CPU, RSS ${idle.rss.toFixed(0)} MB.`);
