// What supervisors killed with SIGKILL left running: found in their cgroups where they made them,
// and in /proc by the KEEPALIVE_PID they carry (a record's pids are only claims), and stopped the
// way keepalive stops any child: the stop signal, SIGKILL after the kill timeout. Every process of
// the old trees goes, leaders or not.
import {
  ownerOf,
  recordedIdentities,
  treeSupervisors,
  leftoverProcesses,
  type Candidate,
  type Leftover,
  type Leftovers,
  type Supervisor,
} from '../core/leftover-trees.js';
import type { InstanceRecord } from '../core/instance-state.js';
import type { SignalName } from '../core/signals.js';
import { processesInGroupOf } from '../tree/cgroups.js';
import { signalGroup } from '../tree/process-group.js';
import { waitUntil } from './poll.js';
import { bootId, processesCarrying, processFacts, readStat } from '../tree/proc.js';
import type { Logger } from '../log.js';
import { InstanceError } from './instance-files.js';
import { stripControl } from '../core/shown-text.js';
import { who } from '../core/who.js';

/** How long the processes may take to vanish after SIGKILL (one in uninterruptible sleep). */
const AFTER_KILL_MS = 5_000;
/** Each search scans /proc: not every few milliseconds. */
const POLL_MS = 50;

export function findLeftovers(record: InstanceRecord): Leftovers {
  const supervisors = treeSupervisors(record);
  return leftoverProcesses({
    record,
    trees: supervisors.map((supervisor) => ({ supervisor, now: processFacts(supervisor.pid) })),
    recorded: recordedIdentities(record).map((identity) => ({
      identity,
      facts: processFacts(identity.pid),
    })),
    candidates: [
      ...processesCarrying(new Set(supervisors.map((supervisor) => supervisor.pid))),
      ...inCgroups(supervisors),
    ],
    selfPid: process.pid,
    bootId: bootId(),
  });
}

/** What is in the supervisors' cgroups (a process that cleared its environment, too). */
function inCgroups(supervisors: readonly Supervisor[]): Candidate[] {
  if (process.platform !== 'linux') return [];
  return supervisors.flatMap(({ pid: owner }) =>
    processesInGroupOf(owner).flatMap((pid) => {
      const stat = readStat(pid);
      return stat ? [{ pid, stat, keepalivePid: owner }] : [];
    }),
  );
}

/** How one leftover is stopped: its own process's stop signal and kill timeout. */
interface HowToStop {
  signal: SignalName;
  killTimeout: number;
}

/**
 * A set's record says how each of its processes is stopped; a single command's leftovers are
 * stopped the way the keepalive finding them stops its own child.
 */
function howToStop(record: InstanceRecord, fallback: HowToStop): (leftover: Leftover) => HowToStop {
  if (!record.processes) return () => fallback;
  return (leftover) => {
    const owner = ownerOf(record, leftover);
    return owner
      ? { signal: owner.stopSignal, killTimeout: owner.killTimeoutMs }
      : { signal: record.stopSignal, killTimeout: record.killTimeoutMs };
  };
}

/**
 * The signal to each process, once: a group leader's group gets it whole, so its members are
 * skipped.
 */
function signalEach(
  found: readonly Leftover[],
  signalOf: (leftover: Leftover) => SignalName,
  already: Set<number>,
): void {
  const leaders = new Set(
    found.filter((leftover) => leftover.pgid === leftover.pid).map((leftover) => leftover.pid),
  );
  for (const leftover of found) {
    if (already.has(leftover.pid)) continue;
    already.add(leftover.pid);
    if (leftover.pgid !== leftover.pid && leaders.has(leftover.pgid)) continue;
    // Just read from /proc with this start time: the number still names this process.
    if (readStat(leftover.pid)?.startTime !== leftover.startTime) continue;
    const signal = signalOf(leftover);
    if (leaders.has(leftover.pid)) {
      signalGroup(leftover.pid, signal);
    } else {
      try {
        process.kill(leftover.pid, signal);
      } catch {
        // Gone meanwhile.
      }
    }
  }
}

/**
 * Stops every process the record's supervisors left (found again on every look, so that what they
 * fork meanwhile goes too), each with its own process's stop signal and, after that process's kill
 * timeout, SIGKILL; true once none is left.
 */
export async function stopLeftovers(
  record: InstanceRecord,
  options: HowToStop & { onEscalate: (left: readonly Leftover[]) => void },
): Promise<boolean> {
  const how = howToStop(record, options);
  const stopped = new Set<number>();
  const killed = new Set<number>();
  const started = performance.now();
  const overdue = (leftover: Leftover): boolean =>
    performance.now() - started >= how(leftover).killTimeout;
  const find = (): Leftover[] => findLeftovers(record).proven;
  let lastDeadline = 0;
  const look = (): boolean => {
    const left = find();
    signalEach(left, (leftover) => how(leftover).signal, stopped); // and what was forked since
    const late = left.filter((leftover) => overdue(leftover) && !killed.has(leftover.pid));
    if (late.length > 0) options.onEscalate(late);
    for (const leftover of late) killed.add(leftover.pid);
    // Each look sends SIGKILL again to every overdue one: its group may have forked meanwhile.
    signalEach(left.filter(overdue), () => 'SIGKILL', new Set());
    for (const leftover of left) lastDeadline = Math.max(lastDeadline, how(leftover).killTimeout);
    return left.length === 0;
  };
  if (look()) return true;
  return waitUntil(
    () => look() || performance.now() - started > lastDeadline + AFTER_KILL_MS,
    Infinity,
    POLL_MS,
  ).then(() => find().length === 0);
}

/**
 * "app[200], app[305]": the leaders, and those whose leader is gone (a group's members go with it),
 * each by its own process's name in a set's record.
 */
export function leftoverNames(
  name: string,
  leftovers: readonly Leftover[],
  record?: InstanceRecord,
): string {
  const leaders = new Set(
    leftovers.filter((leftover) => leftover.pgid === leftover.pid).map((leftover) => leftover.pid),
  );
  const nameOf = (leftover: Leftover): string =>
    record?.processes ? stripControl(ownerOf(record, leftover)?.name ?? name) : name;
  return leftovers
    .filter((leftover) => leftover.pgid === leftover.pid || !leaders.has(leftover.pgid))
    .map((leftover) => who(nameOf(leftover), leftover.pid))
    .join(', ');
}

/** A recorded pid's process name: its own in a set's record, else the single command's. */
export function recordedName(record: InstanceRecord, pid: number, fallback: string): string {
  return record.processes
    ? stripControl(ownerOf(record, { pid, pgid: pid })?.name ?? fallback)
    : fallback;
}

/**
 * Never two business processes: whatever a killed predecessor left must be gone before we start.
 */
export async function stopTree(
  old: InstanceRecord,
  proven: readonly Leftover[],
  name: string,
  options: { stopSignal: SignalName; killTimeout: number; log: Logger },
): Promise<void> {
  const who = leftoverNames(name, proven, old);
  options.log.line(
    'warn',
    'leftover',
    `stopping ${who}, left running by a keepalive that was killed`,
    { name, pids: proven.map((leftover) => leftover.pid) },
  );
  const gone = await stopLeftovers(old, {
    signal: options.stopSignal,
    killTimeout: options.killTimeout,
    onEscalate: (left) =>
      options.log.line(
        'warn',
        'escalate',
        `${leftoverNames(name, left, old)} still running after ` +
          `${old.processes ? 'its stop signal' : options.stopSignal}: sending SIGKILL`,
        { pids: left.map((leftover) => leftover.pid) },
      ),
  });
  if (!gone)
    throw new InstanceError(
      `cannot stop ${who}, left by a keepalive that was killed; not starting a second one`,
    );
}
