// Health probes leave nothing behind: a probe's whole process group ends with the probe, and
// nothing of a probe outlives keepalive's stop.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keepalive } from '../helpers/keepalive.js';
import { eventually, killMarked, running, uniqueMarker, workspace } from '../helpers/proc.js';

/** Every process with `marker` as an argument: a probe's leftovers, whatever their session. */
const marked = (marker: string): number[] =>
  running()
    .filter((process) => process.argv.includes(marker))
    .map((process) => process.pid);

const probesRun = (file: string): number => {
  try {
    return readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
};

test("a probe's background job ends with the probe: --health-cmd 'sleep 777 & exit 0'", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const probes = join(directory, 'probes');
  t.teardown(() => {
    for (const pid of marked(marker)) process.kill(pid, 'SIGKILL');
  });
  const keepalive = new Keepalive([
    '--health-cmd',
    `echo >> ${probes}; sleep ${marker} & exit 0`,
    '--health-interval',
    '300ms',
    '--',
    'sleep',
    '1000',
  ]);
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  await eventually('five probes to have run', () => probesRun(probes) >= 5);
  // Each probe's sleep is killed as its sh exits: at most the one of a probe running right now.
  await eventually('no probe leftovers', () => marked(marker).length === 0, 3_000).catch(() => {
    t.fail(`${marked(marker).length} probe sleeps are left after ${probesRun(probes)} probes`);
  });
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 143);
  t.deepEqual(marked(marker), [], 'nothing of a probe outlives the stop');
});

test("a probe running when keepalive stops ends with it, its group's other members too", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const probes = join(directory, 'probes');
  t.teardown(() => killMarked(marker));
  t.teardown(() => {
    for (const pid of marked(marker)) process.kill(pid, 'SIGKILL');
  });
  const keepalive = new Keepalive([
    '--health-cmd',
    `sleep ${marker} & echo >> ${probes}; sleep ${marker}`,
    '--health-interval',
    '100ms',
    '--health-timeout',
    '1m',
    '--',
    'sleep',
    '1000',
  ]);
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  await eventually(
    'a probe to be running',
    () => probesRun(probes) >= 1 && marked(marker).length === 2,
  );
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 143);
  await eventually('the probe to be gone', () => marked(marker).length === 0, 3_000).catch(() => {
    t.fail(`${marked(marker).length} processes of the probe outlived keepalive`);
  });
});
