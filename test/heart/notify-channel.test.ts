// A child flooding the notify channel: keepalive must keep up, stay small, and keep its deadlines.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fixture, Keepalive } from '../helpers/keepalive.js';

/** keepalive's peak resident memory so far, in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((each) => each.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
}

/**
 * Generous: a Node.js process starts near 50 MB; a buffer that grew with the flood would pass this
 * fast.
 */
const RSS_BOUND_MB = 200;
const SLACK_MS = 3000;

test('`yes ""` onto the channel: millions of beats, no false hang, memory flat, still responsive', async (t) => {
  const keepalive = new Keepalive([
    '--heartbeat',
    '1s',
    '--',
    'sh',
    '-c',
    'yes "" >&3 & sleep 3; echo flooded; wait',
  ]);
  await keepalive.stdout.next(/^flooded$/);
  const peak = peakRssMb(keepalive.pid);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 143);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  t.false(keepalive.stderr.text.includes('dropped'), keepalive.stderr.text);
  t.true(peak < RSS_BOUND_MB, `peak RSS ${peak.toFixed(0)} MB`);
});

test('garbage of every kind with beats among it: no false hang, dropped lines counted in few warnings', async (t) => {
  const keepalive = new Keepalive([
    '--heartbeat',
    '1s',
    '--heartbeat-grace',
    '10s',
    '--',
    'node',
    fixture('flood.mjs'),
    'garbage',
    'beating',
  ]);
  await keepalive.stdout.next(/^flooded 3s$/);
  const peak = peakRssMb(keepalive.pid);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  t.true(peak < RSS_BOUND_MB, `peak RSS ${peak.toFixed(0)} MB`);
  const warnings = keepalive.stderr.all.filter((line) => line.includes(' dropped '));
  // The first at once, the rest counted until the interval is over or the run ends.
  t.true(warnings.length >= 1 && warnings.length <= 2, warnings.join('\n'));
  t.regex(
    warnings.at(-1) ?? '',
    /flood\[\d+\] dropped \d+ notify lines: \d+ STATUS= not UTF-8, \d+ over 4096 bytes, \d+ not KEY=VALUE or a bad value \(reported at most every 10s\)$/,
  );
});

for (const kind of ['garbage', 'endless'] as const) {
  test(`a flood of ${kind === 'garbage' ? 'garbage lines' : 'one endless line'} without beats does not delay the deadline`, async (t) => {
    const keepalive = new Keepalive([
      '--heartbeat',
      '500ms',
      '--heartbeat-grace',
      '10s',
      '--restart',
      'never',
      '--',
      'node',
      fixture('flood.mjs'),
      kind,
    ]);
    // The grace covers Node's start; the child beats once just before it starts flooding.
    await keepalive.stdout.next(/^flooding$/);
    const floodingAt = performance.now();
    await keepalive.stderr.next(/flood\[\d+\] hung: no heartbeat for [\d.]+m?s; sending SIGKILL$/);
    const lag = performance.now() - floodingAt;
    t.true(lag <= 500 + SLACK_MS, `declared hung ${Math.round(lag)}ms after the flood began`);
    t.is((await keepalive.ended).status, 137);
  });
}
