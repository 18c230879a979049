// What a supervisor killed with SIGKILL left running: found from its record and /proc, and stopped
// the way keepalive stops any child (stop signal to the group, SIGKILL after the kill timeout).
import {
  leftoverGroups,
  recordedIdentities,
  type InstanceRecord,
  type ProcessIdentity,
} from '../core/instance-state.js';
import type { SignalName } from '../core/signals.js';
import { groupAlive } from '../shell/process-group.js';
import { waitUntil } from '../shell/poll.js';
import { bootId, liveGroupMembers, processesStartedBy, processFacts, readStat } from '../shell/proc.js';
import { terminate } from '../shell/terminate.js';

/** How long a group may take to vanish after SIGKILL (a process in uninterruptible sleep). */
const AFTER_KILL_MS = 5_000;

export function findLeftovers(record: InstanceRecord): ProcessIdentity[] {
  return leftoverGroups({
    record,
    recorded: recordedIdentities(record).map((identity) => ({
      identity,
      facts: processFacts(identity.pid),
      groupAlive: groupAlive(identity.pid),
    })),
    oldSupervisor: processFacts(record.supervisor.pid),
    candidates: processesStartedBy(record.supervisor.pid),
    selfPid: process.pid,
    bootId: bootId(),
  });
}

/** Still the same group: its leader has the recorded start time, or is gone and left its group behind. */
function stillThere(group: ProcessIdentity): boolean {
  const leader = readStat(group.pid);
  if (leader && leader.state !== 'Z') return leader.startTime === group.startTime;
  return liveGroupMembers(group.pid).length > 0;
}

/** Stops one leftover group; true once none of its processes runs any more. */
export async function stopLeftover(
  group: ProcessIdentity,
  options: { signal: SignalName; killTimeout: number; onEscalate: () => void },
): Promise<boolean> {
  if (!stillThere(group)) return true;
  const gone = waitUntil(() => liveGroupMembers(group.pid).length === 0, options.killTimeout + AFTER_KILL_MS);
  terminate({ pid: group.pid, signal: options.signal, timeoutMs: options.killTimeout, ended: gone, onEscalate: options.onEscalate });
  return gone;
}
