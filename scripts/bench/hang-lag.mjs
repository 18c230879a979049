#!/usr/bin/env node
// Hang detection lag: how long after a missed deadline keepalive declares the child hung (and sends
// the kill, which follows in the same tick), and how long until the child's exit is seen.
//
//   npm run build && node scripts/bench/hang-lag.mjs [runs] [timeout-ms]
//
// Each run is one child that beats once and then goes silent; keepalive restarts it at once, so the
// runs follow one another under one supervisor. Two children: a quiet one (sleep), and one that
// floods the channel with garbage lines and never beats again (`yes`), which must not delay anything.
import { supervise } from '../../build/src/index.js';

const runs = Number(process.argv[2] ?? 200);
const timeoutMs = Number(process.argv[3] ?? 100);

const children = {
  quiet: 'echo >&3; exec sleep 1000',
  'flooding garbage': 'echo >&3; exec yes "not a message" >&3',
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (x) => `${x.toFixed(2)}ms`;
  return `median ${f(percentile(sorted, 50))}, p99 ${f(percentile(sorted, 99))}, max ${f(sorted.at(-1))}`;
}

for (const [what, script] of Object.entries(children)) {
  const supervisor = supervise({ command: 'sh', args: ['-c', script], heartbeat: timeoutMs, delay: 0, name: 'bench' });
  const declared = [];
  const exited = [];
  let hangAt = 0;
  supervisor.on('hang', (event) => {
    hangAt = performance.now();
    declared.push(event.silentMs - timeoutMs);
  });
  supervisor.on('exit', (event) => {
    if (event.outcome.kind === 'hung') exited.push(performance.now() - hangAt + declared.at(-1));
    if (exited.length >= runs) supervisor.stop('SIGKILL');
  });
  await supervisor.done;
  console.log(`${what} child, ${runs} hangs, --heartbeat ${timeoutMs}ms`);
  console.log(`  deadline -> hung declared and kill sent: ${summary(declared)}`);
  console.log(`  deadline -> child's exit seen:          ${summary(exited)}`);
}
