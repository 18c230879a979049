// The instance module through its API, in this process: the state file follows the supervisor's
// events, and setStatusText (the notify channel's way in) reaches the record.
import test from 'ava';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, type InstanceRecord } from '../../src/core/instance-state.js';
import { supervise, type SpawnEvent } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { claimInstance } from '../../src/guardian/instance.js';
import { runKeepalive } from '../helpers/keepalive.js';
import { eventually, uniqueMarker, workspace } from '../helpers/proc.js';

const readRecord = (pidfile: string): InstanceRecord | undefined => {
  const parsed = parseRecord(readFileSync(`${pidfile}.state`, 'utf8'));
  return parsed.ok ? parsed.value : undefined;
};

test('the state file follows spawn, exit and stop; STATUS= text shows in status; release leaves nothing', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const lines: string[] = [];
  const log = await createLogger({
    format: 'text',
    level: 'normal',
    colorLevel: 0,
    write: (line) => lines.push(line),
  });
  const claim = await claimInstance({
    pidfile,
    name: 'sleep',
    stopSignal: 'SIGTERM',
    killTimeout: 2000,
    log,
  });
  if (claim.kind !== 'claimed') {
    t.fail(claim.kind);
    return;
  }
  t.like(readRecord(pidfile), { phase: 'starting', child: null, supervisor: { pid: process.pid } });

  const supervisor = supervise({ command: 'sleep', args: [marker], delay: 0 });
  t.teardown(async () => {
    supervisor.stop(); // even when an assertion failed, so that this worker can end
    await supervisor.done;
    claim.instance.release();
  });
  claim.instance.attach(supervisor);
  const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  t.like(readRecord(pidfile), {
    phase: 'running',
    child: { pid: first.pid },
    restarts: 0,
    lastStatusText: '',
  });

  claim.instance.setStatusText('warming up');
  claim.instance.setStatusText('serving 3 clients'); // a burst is written once, with the latest text
  const written = await eventually(
    'the text in the state file',
    () => readRecord(pidfile)?.lastStatusText === 'serving 3 clients',
  );
  t.true(written);
  // `keepalive status` knows this test's worker as FILE's supervisor, although its command line is
  // ava's: it holds FILE.lock, with the start time the record gives.
  const status = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
  t.is(status.status, 0, status.stdout);
  t.like(JSON.parse(status.stdout), {
    state: 'running',
    supervisorPid: process.pid,
    childPid: first.pid,
    lastStatusText: 'serving 3 clients',
  });

  process.kill(first.pid, 'SIGKILL');
  const [second] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  t.like(readRecord(pidfile), {
    phase: 'running',
    child: { pid: second.pid },
    restarts: 1,
    lastExit: {
      pid: first.pid,
      status: 137,
      words: `sleep[${first.pid}] killed: SIGKILL (Forced termination), status 137`,
    },
    lastStatusText: 'serving 3 clients',
  });

  supervisor.stop();
  await supervisor.done;
  t.like(readRecord(pidfile), { phase: 'stopping', child: null });
  claim.instance.release();
  t.deepEqual(readdirSync(directory), []);
  t.true(
    lines.every((line) => !line.includes('cannot')),
    lines.join(''),
  );
});
