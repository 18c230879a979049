// The guardian for a set, through the API in this process: FILE.state records every process of a
// real ProcessSet, `keepalive status` lists them, `keepalive restart NAME` restarts only that one,
// an unknown name is refused, and a stop stops all.
import test, { type ExecutionContext } from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, type InstanceRecord } from '../../src/core/instance-state.js';
import { superviseSet, type ProcessOptions, type ProcessSet } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import {
  claimInstance,
  parseRequest,
  type Instance,
  type Rotator,
} from '../../src/guardian/instance.js';
import { runKeepalive } from '../helpers/keepalive.js';
import { eventually, uniqueMarker, workspace, processState } from '../helpers/proc.js';

const readRecord = (pidfile: string): InstanceRecord | undefined => {
  try {
    const parsed = parseRecord(readFileSync(`${pidfile}.state`, 'utf8'));
    return parsed.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  }
};

const NAMES = ['db', 'web', 'worker'] as const;

/** The pid of each process once the record shows all of them running. */
function runningPids(pidfile: string): Record<string, number> | undefined {
  const processes = readRecord(pidfile)?.processes ?? [];
  if (processes.length !== NAMES.length) return undefined;
  const pids: Record<string, number> = {};
  for (const entry of processes) {
    if (entry.state !== 'running' || !entry.child) return undefined;
    pids[entry.name] = entry.child.pid;
  }
  return pids;
}

async function guardedSet(
  t: ExecutionContext,
  rotator?: Rotator,
): Promise<{ pidfile: string; set: ProcessSet; instance: Instance; lines: string[] }> {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'set.pid');
  const lines: string[] = [];
  const log = await createLogger({
    format: 'text',
    level: 'normal',
    colorLevel: 0,
    write: (line) => lines.push(line),
  });
  const processes: ProcessOptions[] = NAMES.map((name) => ({
    name,
    command: 'sleep',
    args: [marker],
    delay: 0,
    killTimeout: 3000,
    ...(name === 'web' ? { dependsOn: { db: { condition: 'started', restart: false } } } : {}),
  }));
  const claim = await claimInstance({
    pidfile,
    name: 'keepalive.yaml',
    stopSignal: 'SIGTERM',
    killTimeout: 9000,
    processes: processes.map((entry) => ({
      name: entry.name,
      stopSignal: 'SIGTERM',
      killTimeout: 3000,
    })),
    log,
  });
  if (claim.kind !== 'claimed') throw new Error(`not claimed: ${claim.kind}`);
  const set = superviseSet({ processes });
  t.teardown(async () => {
    set.stop(); // even when an assertion failed, so that this worker can end
    await set.done.catch(() => {});
    claim.instance.release();
  });
  claim.instance.attach(set, rotator);
  return { pidfile, set, instance: claim.instance, lines };
}

test("a set's record lists every process; status shows a table and --json a processes array", async (t) => {
  const { pidfile } = await guardedSet(t);
  const pids = await eventually('three processes running', () => runningPids(pidfile));
  const status = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(status.status, 0, status.stdout + status.stderr);
  const lines = status.stdout.trimEnd().split('\n');
  t.regex(lines[0] ?? '', new RegExp(`^running: keepalive\\[${process.pid}\\], up `));
  t.regex(lines[1] ?? '', /^NAME +STATE +PID +UPTIME +RESTARTS +READY +LAST EXIT$/);
  for (const [index, name] of NAMES.entries())
    t.regex(
      lines[index + 2] ?? '',
      new RegExp(`^${name} +running +${pids[name]} +\\S+ +0 +yes +-$`),
    );
  const json = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
  const report = JSON.parse(json.stdout) as { processes: Array<{ name: string; pid: number }> };
  t.deepEqual(
    report.processes.map(({ name, pid }) => [name, pid]),
    NAMES.map((name) => [name, pids[name]]),
  );
});

test('restart NAME restarts that process only; without a name, every one; an unknown name is refused', async (t) => {
  const { pidfile, lines } = await guardedSet(t);
  const before = await eventually('three processes running', () => runningPids(pidfile));
  const restarted = await runKeepalive(['restart', '--pidfile', pidfile, 'web']);
  t.is(restarted.status, 0, restarted.stderr);
  const after = runningPids(pidfile);
  t.not(after?.['web'], before['web']);
  t.is(after?.['db'], before['db']);
  t.is(after?.['worker'], before['worker']);
  t.is(
    restarted.stderr,
    `keepalive: restarted: web[${after?.['web']}] (was web[${before['web']}])\n`,
  );
  t.true(lines.some((line) => line.includes('restart of web requested by `keepalive restart`')));

  const unknown = await runKeepalive(['restart', '--pidfile', pidfile, 'wbe']);
  t.is(unknown.status, 2);
  t.is(
    unknown.stderr,
    `keepalive: no process "wbe" in ${pidfile}; its processes: db, web, worker\n`,
  );
  t.deepEqual(runningPids(pidfile), after, 'nothing was restarted');

  const all = await runKeepalive(['restart', '--pidfile', pidfile]);
  t.is(all.status, 0, all.stderr);
  const renewed = runningPids(pidfile) ?? {};
  for (const name of NAMES) t.not(renewed[name], after?.[name], name);
});

test('a stop request stops every process of the set; release leaves no file', async (t) => {
  const { pidfile, set, instance } = await guardedSet(t);
  const pids = await eventually('three processes running', () => runningPids(pidfile));
  // What `keepalive stop` writes (it then waits for keepalive to end: here, this test's worker).
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${pidfile}.stop`, `${process.pid}\n`, { mode: 0o600 });
  await set.done;
  for (const name of NAMES) t.is(processState(pids[name] as number), undefined, name);
  t.like(readRecord(pidfile), { phase: 'stopping' });
  instance.release();
  t.deepEqual(readdirSync(join(pidfile, '..')), []);
});

test('a request file: the pid, then the name of one process; what an older keepalive wrote still reads', (t) => {
  t.deepEqual(parseRequest('4321\n'), { pid: 4321 });
  t.deepEqual(parseRequest('4321\nweb\n'), { pid: 4321, name: 'web' });
  t.deepEqual(parseRequest('4321\n\n'), { pid: 4321 });
  // keepalive rotate's: its id on a third line.
  t.deepEqual(parseRequest('4321\n\nid=a1-b2\n'), { pid: 4321, id: 'a1-b2' });
  t.deepEqual(parseRequest('4321\nweb\nid=x\n'), { pid: 4321, name: 'web', id: 'x' });
  for (const bad of [
    '',
    'web\n',
    '4321 web\n',
    '4321\nweb\nworker\n',
    '-1\n',
    '4321\n\nid=\n',
    '4321\n\nid=a b\n',
    '4321\n\nid=x\nmore\n',
  ])
    t.is(parseRequest(bad), undefined, JSON.stringify(bad));
});

test('rotate NAME asks the rotator for that process only; what it says is what `keepalive rotate` says', async (t) => {
  const asked: Array<string | undefined> = [];
  const rotator: Rotator = async (name) => {
    asked.push(name);
    const names = name === undefined ? NAMES : [name];
    return names.map((entry) =>
      entry === 'worker'
        ? { name: entry, file: '/logs/worker.log', problem: 'no space left on the device' }
        : { name: entry, file: entry === 'db' ? null : `/logs/${entry}.log` },
    );
  };
  const { pidfile, lines } = await guardedSet(t, rotator);
  await eventually('three processes running', () => runningPids(pidfile));
  const one = await runKeepalive(['rotate', '--pidfile', pidfile, 'web']);
  t.is(one.status, 0, one.stderr);
  t.is(one.stderr, 'keepalive: rotated /logs/web.log\n');
  t.deepEqual(asked, ['web']);
  t.true(lines.some((line) => line.includes('rotate of web requested by `keepalive rotate`')));

  const none = await runKeepalive(['rotate', '--pidfile', pidfile, 'db']);
  t.is(none.status, 1);
  t.is(
    none.stderr,
    'keepalive: nothing to rotate: db writes no output file (--output, or output: or ' +
      'output-dir: in its config file)\n',
  );

  const all = await runKeepalive(['rotate', '--pidfile', pidfile]);
  t.is(all.status, 1, 'one file could not be rotated');
  t.is(
    all.stderr,
    'keepalive: cannot rotate /logs/worker.log: no space left on the device\n' +
      'keepalive: rotated /logs/web.log\n',
  );
  t.deepEqual(asked, ['web', 'db', undefined]);

  const unknown = await runKeepalive(['rotate', '--pidfile', pidfile, 'wbe']);
  t.is(unknown.status, 2);
  t.deepEqual(asked, ['web', 'db', undefined], 'nothing asked');
  t.deepEqual(
    readdirSync(join(pidfile, '..')).filter((name) => name.endsWith('.rotate')),
    [],
  );
});
