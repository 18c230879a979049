// What supervisors killed with SIGKILL left running: found in their cgroups where they made them,
// and in /proc by the KEEPALIVE_PID they carry (a record's pids are only claims), and stopped the
// way keepalive stops any child: the stop signal, SIGKILL after the kill timeout. Every process of
// the old trees goes, leaders or not.
import {
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

/**
 * The signal to each process, once: a group leader's group gets it whole, so its members are
 * skipped.
 */
function signalEach(found: readonly Leftover[], signal: SignalName, already: Set<number>): void {
  const leaders = new Set(
    found.filter((leftover) => leftover.pgid === leftover.pid).map((leftover) => leftover.pid),
  );
  for (const leftover of found) {
    if (already.has(leftover.pid)) continue;
    already.add(leftover.pid);
    if (leftover.pgid !== leftover.pid && leaders.has(leftover.pgid)) continue;
    // Just read from /proc with this start time: the number still names this process.
    if (readStat(leftover.pid)?.startTime !== leftover.startTime) continue;
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
 * fork meanwhile goes too); true once none is left.
 */
export async function stopLeftovers(
  record: InstanceRecord,
  options: {
    signal: SignalName;
    killTimeout: number;
    onEscalate: (left: readonly Leftover[]) => void;
  },
): Promise<boolean> {
  const stopped = new Set<number>();
  const find = (): Leftover[] => findLeftovers(record).proven;
  signalEach(find(), options.signal, stopped);
  const none = (): boolean => {
    const left = find();
    signalEach(left, options.signal, stopped); // what was forked after the first signal
    return left.length === 0;
  };
  if (await waitUntil(none, options.killTimeout, POLL_MS)) return true;
  const left = find();
  options.onEscalate(left);
  signalEach(left, 'SIGKILL', new Set());
  return waitUntil(
    () => {
      const still = find();
      signalEach(still, 'SIGKILL', new Set());
      return still.length === 0;
    },
    AFTER_KILL_MS,
    POLL_MS,
  );
}

/**
 * "app[200], app[305]": the leaders, and those whose leader is gone (a group's members go with it).
 */
export function leftoverNames(name: string, leftovers: readonly Leftover[]): string {
  const leaders = new Set(
    leftovers.filter((leftover) => leftover.pgid === leftover.pid).map((leftover) => leftover.pid),
  );
  return leftovers
    .filter((leftover) => leftover.pgid === leftover.pid || !leaders.has(leftover.pgid))
    .map((leftover) => who(name, leftover.pid))
    .join(', ');
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
  const who = leftoverNames(name, proven);
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
        `${leftoverNames(name, left)} still running after ${options.stopSignal}: sending SIGKILL`,
        { pids: left.map((leftover) => leftover.pid) },
      ),
  });
  if (!gone)
    throw new InstanceError(
      `cannot stop ${who}, left by a keepalive that was killed; not starting a second one`,
    );
}
