// keepalive status | stop | restart --pidfile FILE: act on the keepalive that owns FILE, from the
// files beside it and /proc. Exit statuses follow the LSB init scripts: 0 done or running,
// 3 not running (no FILE, or a stale one), 4 unknown (unreadable), 1 it did not work in time.
import type { InstanceRecord, Verdict } from './core/instance-state.js';
import { staleWords } from './core/instance-state.js';
import { LSB, statusReport, statusText } from './core/status-report.js';
import { describeError, InstanceError, instancePaths, PRIVATE_MODE, removeStaleFiles, tryLock, viewInstance, type InstancePaths } from './shell/instance-files.js';
import { findLeftovers, stopLeftover } from './shell/leftovers.js';
import { waitUntil } from './shell/poll.js';
import { readStat } from './shell/proc.js';
import { writeAtomically } from './shell/safe-files.js';

export type ControlCommand =
  | { command: 'status'; pidfile: string; json: boolean }
  | { command: 'stop'; pidfile: string }
  | { command: 'restart'; pidfile: string };

export interface ControlOutput {
  out(text: string): void;
  err(text: string): void;
}

const POLL_MS = 50;
/** Beyond the supervisor's kill timeout: its group sweep, its cleanup, a busy machine. */
const MARGIN_MS = 10_000;
const DEFAULT_KILL_TIMEOUT_MS = 8_000;

export async function runControl(command: ControlCommand, output: ControlOutput): Promise<number> {
  const paths = instancePaths(command.pidfile);
  switch (command.command) {
    case 'status':
      return status(paths, command.json, output);
    case 'stop':
      return stop(paths, output);
    case 'restart':
      return restart(paths, output);
  }
}

function status(paths: InstancePaths, json: boolean, output: ControlOutput): number {
  const { verdict } = viewInstance(paths);
  const orphan = verdict.kind === 'stale' && verdict.record ? findLeftovers(verdict.record)[0] : undefined;
  const { report, exitStatus } = statusReport({ pidfile: paths.pidfile, verdict, orphanPid: orphan?.pid, now: Date.now() });
  output.out(json ? `${JSON.stringify(report)}\n` : statusText(report));
  return exitStatus;
}

/** Says why there is nothing to act on, with the status that goes with it; undefined if running. */
function notRunning(verdict: Verdict, paths: InstancePaths, output: ControlOutput): number | undefined {
  switch (verdict.kind) {
    case 'running':
      return undefined;
    case 'absent':
      output.err(`keepalive: not running (no ${paths.pidfile})\n`);
      return LSB.notRunning;
    case 'stale':
      output.err(`keepalive: not running: stale ${paths.pidfile} (${staleWords(verdict.reason, verdict.pid)})\n`);
      return LSB.notRunning;
    case 'unknown':
      output.err(`keepalive: cannot tell whether ${paths.pidfile} is running: ${verdict.problem}\n`);
      return LSB.unknown;
  }
}

async function stop(paths: InstancePaths, output: ControlOutput): Promise<number> {
  const { verdict } = viewInstance(paths);
  if (verdict.kind === 'stale') return stopStale(paths, verdict.record, output);
  const notNow = notRunning(verdict, paths, output);
  if (notNow !== undefined || verdict.kind !== 'running') return notNow ?? LSB.unknown;

  const { pid, record } = verdict;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    output.err(`keepalive: cannot signal keepalive[${pid}]: ${describeError(error)}\n`);
    return LSB.unknown;
  }
  const timeoutMs = (record?.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS) + MARGIN_MS;
  const startTime = readStat(pid)?.startTime;
  const gone = await waitUntil(() => ended(pid, startTime), timeoutMs, POLL_MS);
  if (!gone) {
    output.err(`keepalive: keepalive[${pid}] is still running ${Math.round(timeoutMs / 1000)}s after SIGTERM\n`);
    return 1;
  }
  const child = record?.child ? ` and ${record.name}[${record.child.pid}]` : '';
  output.err(`keepalive: stopped keepalive[${pid}]${child}\n`);
  return 0;
}

/** No supervisor, but perhaps its child: stop what it left, remove its files, and say it was not running. */
async function stopStale(paths: InstancePaths, record: InstanceRecord | undefined, output: ControlOutput): Promise<number> {
  let lock;
  try {
    lock = tryLock(paths.lock);
  } catch (error) {
    output.err(`keepalive: cannot clean up ${paths.pidfile}: ${error instanceof InstanceError ? error.message : describeError(error)}\n`);
    return LSB.unknown;
  }
  // A new keepalive took FILE a moment ago: that is the one to stop.
  if (!lock) return stop(paths, output);
  try {
    const { verdict } = viewInstance(paths);
    if (verdict.kind !== 'stale') return stop(paths, output);
    const stopped: string[] = [];
    for (const group of record ? findLeftovers(record) : []) {
      const who = `${record?.name ?? 'child'}[${group.pid}]`;
      const gone = await stopLeftover(group, {
        signal: record?.stopSignal ?? 'SIGTERM',
        killTimeoutMs: record?.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS,
        onEscalate: () => {},
      });
      if (!gone) {
        output.err(`keepalive: cannot stop ${who}, left running by a keepalive that was killed\n`);
        return 1;
      }
      stopped.push(who);
    }
    removeStaleFiles(paths, verdict.pid, { keepRecord: false });
    const left = stopped.length > 0 ? `; stopped ${stopped.join(', ')}, left running by it` : '';
    output.err(`keepalive: not running: stale ${paths.pidfile} (${staleWords(verdict.reason, verdict.pid)})${left}; removed the stale files\n`);
    return LSB.notRunning;
  } finally {
    lock.release(true);
  }
}

/** Gone, a zombie (done, only not reaped yet), or the pid now names a later process. */
function ended(pid: number, startTime: number | undefined): boolean {
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z' || stat.startTime !== startTime;
}

async function restart(paths: InstancePaths, output: ControlOutput): Promise<number> {
  const { verdict } = viewInstance(paths);
  const notNow = notRunning(verdict, paths, output);
  if (notNow !== undefined || verdict.kind !== 'running') return notNow ?? LSB.unknown;

  const { pid, record } = verdict;
  const before = record?.child?.pid;
  try {
    writeAtomically(paths.restart, `${pid}\n`, PRIVATE_MODE);
  } catch (error) {
    output.err(`keepalive: cannot ask keepalive[${pid}] to restart: ${describeError(error)}\n`);
    return LSB.unknown;
  }
  const timeoutMs = (record?.killTimeoutMs ?? DEFAULT_KILL_TIMEOUT_MS) + MARGIN_MS;
  let now: Verdict = verdict;
  const restarted = await waitUntil(() => {
    now = viewInstance(paths).verdict;
    if (now.kind !== 'running' || now.pid !== pid) return true;
    const child = now.record?.child;
    return now.record?.phase === 'running' && child !== null && child !== undefined && child.pid !== before;
  }, timeoutMs, POLL_MS);
  const after: Verdict = now;
  if (after.kind !== 'running' || after.pid !== pid) {
    output.err(`keepalive: keepalive[${pid}] ended before its child was restarted\n`);
    return 1;
  }
  if (!restarted || !after.record?.child) {
    output.err(`keepalive: no new child of keepalive[${pid}] within ${Math.round(timeoutMs / 1000)}s\n`);
    return 1;
  }
  const name = after.record.name;
  const was = before === undefined ? '' : ` (was ${name}[${before}])`;
  output.err(`keepalive: restarted: ${name}[${after.record.child.pid}]${was}\n`);
  return 0;
}
