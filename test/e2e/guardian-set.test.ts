// The guardian for a set after a SIGKILL: the next cron run finds every process the killed
// keepalive left (each proven by /proc, not by the record) and stops it before it starts its own;
// a planted record naming another program's pid gets nothing signalled.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, parseStat, type InstanceRecord } from '../../src/core/instance-state.js';
import { fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { children, eventually, killMarked, uniqueMarker, workspace } from '../helpers/proc.js';

const readRecord = (pidfile: string): InstanceRecord | undefined => {
  try {
    const parsed = parseRecord(readFileSync(`${pidfile}.state`, 'utf8'));
    return parsed.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  }
};

/** The start time /proc gives a pid now, or undefined once it is gone (zombies count as gone). */
function startTimeOf(pid: number): number | undefined {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat && stat.state !== 'Z' ? stat.startTime : undefined;
  } catch {
    return undefined;
  }
}

test("SIGKILL of a set's keepalive, then the next cron run: every process it left is stopped, one copy runs", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'set.pid');
  const guardian = new Keepalive([pidfile, marker, 'db', 'web', 'worker'], {
    command: [process.execPath, fixture('guarded-set.mjs')],
  });
  t.teardown(() => guardian.signal('SIGKILL'));
  await guardian.stdout.next(/^running$/);
  const old = await eventually('the record naming all three', () => {
    const processes = readRecord(pidfile)?.processes ?? [];
    const identities = processes.flatMap((entry) => (entry.child ? [entry.child] : []));
    return identities.length === 3 ? identities : undefined;
  });
  t.is(children(marker).length, 3);

  const exited = once(guardian.process, 'exit');
  guardian.signal('SIGKILL');
  await exited; // not its pipes' close: the set's processes still hold them
  // The set runs on without its keepalive: each child leads a session of its own.
  t.deepEqual(
    old.map(({ pid }) => startTimeOf(pid)),
    old.map(({ startTime }) => startTime),
  );

  const next = await runKeepalive([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    join(directory, 'log'),
    '--',
    'sleep',
    marker,
  ]);
  t.is(next.status, 0, next.stderr);
  for (const { pid, startTime } of old)
    t.not(startTimeOf(pid), startTime, `pid ${pid} of the killed keepalive's set is still there`);
  const now = children(marker);
  t.is(now.length, 1, JSON.stringify(now));
  const log = readFileSync(join(directory, 'log'), 'utf8');
  const [db, web, worker] = old.map(({ pid }) => pid);
  t.regex(log, /taking over .*set\.pid: keepalive\[\d+\] is gone/);
  t.true(
    log.includes(
      `stopping db[${db}], web[${web}], worker[${worker}], left running by a keepalive that ` +
        `was killed`,
    ),
    log,
  );
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
  t.is(children(marker).length, 0);
});

test("a planted set record naming another program's pid: the next run signals nothing of it", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'set.pid');
  // Another program: its own session, no KEEPALIVE_PID, not in any keepalive's cgroup.
  const victim = spawn('setsid', ['sleep', marker], {
    stdio: 'ignore',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
  });
  t.teardown(() => victim.kill('SIGKILL'));
  await eventually('the victim running', () => children(marker).length === 1);
  const pid = children(marker)[0]?.pid as number;
  const startTime = startTimeOf(pid) as number;
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const entry = (name: string, child: { pid: number; startTime: number } | null) => ({
    name,
    state: 'running',
    ready: true,
    child: child && { ...child, startedAt: new Date().toISOString() },
    restarts: 0,
    lastExit: null,
    stopSignal: 'SIGKILL',
    killTimeoutMs: 0,
  });
  // A supervisor that is gone (pid 1's start time is not this), a record naming the victim.
  const planted = {
    version: 1,
    pidfile,
    name: 'set',
    supervisor: { pid: 4_000_000, startTime: 1 },
    bootId,
    startedAt: new Date().toISOString(),
    phase: 'running',
    child: null,
    leftovers: [{ pid, startTime }],
    sweeping: [{ pid, startTime }],
    predecessors: [{ pid, startTime }],
    restarts: 0,
    lastExit: null,
    lastStatusText: '',
    stopSignal: 'SIGKILL',
    killTimeoutMs: 0,
    processes: [entry('db', { pid, startTime }), entry('web', null)],
  };
  writeFileSync(`${pidfile}.state`, JSON.stringify(planted), { mode: 0o644 });
  writeFileSync(pidfile, '4000000\n', { mode: 0o644 });

  const next = await runKeepalive([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    join(directory, 'log'),
    '--',
    'sleep',
    marker,
  ]);
  t.is(next.status, 0, next.stderr);
  t.is(startTimeOf(pid), startTime, 'the victim still runs');
  const log = readFileSync(join(directory, 'log'), 'utf8');
  t.true(log.includes(`db[${pid}], named in ${pidfile}.state, does not carry KEEPALIVE_PID`), log);
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
  t.is(startTimeOf(pid), startTime, 'still, after keepalive stop');
  victim.kill('SIGKILL');
  await once(victim, 'exit');
});

/** A set of three, each `sleep` with a marker of its own, so that /proc counts each. */
function setOfThree(t: ExecutionContext): {
  directory: string;
  pidfile: string;
  markers: Record<'db' | 'web' | 'worker', string>;
  command: string[];
} {
  const markers = { db: uniqueMarker(), web: uniqueMarker(), worker: uniqueMarker() };
  const directory = workspace(t, markers.db);
  t.teardown(() => {
    killMarked(markers.web);
    killMarked(markers.worker);
  });
  const config = join(directory, 'keepalive.yaml');
  writeFileSync(
    config,
    [
      'kill-timeout: 3s',
      'processes:',
      `  db: { command: [sleep, "${markers.db}"] }`,
      `  web: { command: [sleep, "${markers.web}"], depends-on: { db: started } }`,
      `  worker: { command: [sleep, "${markers.worker}"], stop-signal: SIGINT }`,
      '',
    ].join('\n'),
  );
  const pidfile = join(directory, 'set.pid');
  const log = join(directory, 'log');
  return {
    directory,
    pidfile,
    markers,
    command: ['-c', config, '--pidfile', pidfile, '--detach', '--log-file', log],
  };
}

const NAMES = ['db', 'web', 'worker'] as const;

/** Each process's pid, by /proc (its own marker), once exactly one of each runs. */
function onePerProcess(markers: Record<string, string>): Record<string, number> | undefined {
  const pids: Record<string, number> = {};
  for (const name of NAMES) {
    const found = children(markers[name] as string);
    if (found.length !== 1) return undefined;
    pids[name] = found[0]?.pid as number;
  }
  return pids;
}

test('keepalive -c FILE --pidfile --detach: status lists 3, restart NAME changes only its pid, stop stops all', async (t) => {
  const { pidfile, markers, command } = setOfThree(t);
  const started = await runKeepalive(command);
  t.is(started.status, 0, started.stderr);
  const pids = await eventually('one of each', () => onePerProcess(markers));
  await eventually('every process running in the record', () =>
    (readRecord(pidfile)?.processes ?? []).every(
      (entry) => entry.state === 'running' && entry.child?.pid === pids[entry.name],
    ),
  );
  const status = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(status.status, 0, status.stdout);
  const lines = status.stdout.trimEnd().split('\n');
  t.regex(lines[1] ?? '', /^NAME +STATE +PID +UPTIME +RESTARTS +READY +LAST EXIT$/);
  for (const [index, name] of NAMES.entries())
    t.regex(lines[index + 2] ?? '', new RegExp(`^${name} +running +${pids[name]} `));
  const json = JSON.parse((await runKeepalive(['status', '--pidfile', pidfile, '--json'])).stdout);
  t.deepEqual(
    (json.processes as Array<{ name: string; pid: number }>).map(({ name, pid }) => [name, pid]),
    NAMES.map((name) => [name, pids[name]]),
  );

  const restarted = await runKeepalive(['restart', '--pidfile', pidfile, 'web']);
  t.is(restarted.status, 0, restarted.stderr);
  const after = await eventually('one of each again', () => onePerProcess(markers));
  t.not(after['web'], pids['web']);
  t.is(after['db'], pids['db']);
  t.is(after['worker'], pids['worker']);
  const unknown = await runKeepalive(['restart', '--pidfile', pidfile, 'wbe']);
  t.is(unknown.status, 2);
  t.is(
    unknown.stderr,
    `keepalive: no process "wbe" in ${pidfile}; its processes: db, web, worker\n`,
  );

  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
  for (const name of NAMES) t.is(children(markers[name] as string).length, 0, name);
  const gone = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(gone.status, 3);
});

test('keepalive -c: SIGKILL of keepalive, then the same cron command again: exactly one of each', async (t) => {
  const { pidfile, markers, command, directory } = setOfThree(t);
  t.is((await runKeepalive(command)).status, 0);
  const old = await eventually('one of each', () => onePerProcess(markers));
  const supervisor = Number(readFileSync(pidfile, 'utf8'));
  await eventually('the record naming all three', () =>
    (readRecord(pidfile)?.processes ?? []).every((entry) => entry.child !== null),
  );
  process.kill(supervisor, 'SIGKILL');
  await eventually('keepalive gone', () => startTimeOf(supervisor) === undefined);
  t.deepEqual(onePerProcess(markers), old, 'the set runs on without its keepalive');

  const again = await runKeepalive(command);
  t.is(again.status, 0, again.stderr);
  const now = await eventually('one of each', () => onePerProcess(markers));
  for (const name of NAMES) t.not(now[name], old[name], `${name} is a new copy`);
  // And still exactly one of each once the new keepalive has settled.
  await eventually('the new record naming all three', () =>
    (readRecord(pidfile)?.processes ?? []).every((entry) => entry.child !== null),
  );
  t.deepEqual(onePerProcess(markers), now);
  const log = readFileSync(join(directory, 'log'), 'utf8');
  t.true(
    log.includes(
      `stopping db[${old['db']}], web[${old['web']}], worker[${old['worker']}], left running by a ` +
        `keepalive that was killed`,
    ),
    log,
  );
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
});
