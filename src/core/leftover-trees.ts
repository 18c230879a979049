// What killed supervisors left running, decided from facts alone. A pid and a start time in a
// record are a claim; a process is proven to be keepalive's only by what it carries: it is in one
// of those supervisors' cgroups, or its environment has KEEPALIVE_PID of one of them, and it
// started during that supervisor's life.
import {
  recordProcesses,
  type InstanceRecord,
  type ProcessFacts,
  type ProcessIdentity,
  type ProcessRecord,
  type ProcStat,
} from './instance-state.js';

/** A process in a supervisor's cgroups or whose environment names it, as /proc describes it. */
export interface Candidate {
  pid: number;
  stat: ProcStat;
  /** The supervisor whose cgroup it is in, or its KEEPALIVE_PID environment variable. */
  keepalivePid: number | undefined;
}

export type Supervisor = ProcessIdentity & { startTime: number };

/** A supervisor whose processes may still run, with what its pid names now. */
export interface Tree {
  supervisor: Supervisor;
  now: ProcessFacts;
}

export interface LeftoverFacts {
  record: InstanceRecord;
  trees: readonly Tree[];
  /** /proc on each identity the record names (child, sweep, earlier leftovers). */
  recorded: ReadonlyArray<{ identity: ProcessIdentity; facts: ProcessFacts }>;
  /** Processes in one of the trees' supervisors' cgroups, or whose environment names one. */
  candidates: readonly Candidate[];
  selfPid: number;
  bootId: string;
}

export interface Leftover {
  pid: number;
  startTime: number;
  pgid: number;
  /** The supervisor whose cgroup it is in or whose KEEPALIVE_PID it carries. */
  keepalivePid: number;
}

export interface Leftovers {
  /** Every process of the old trees, leaders or not: these are stopped. */
  proven: Leftover[];
  /** Named by the record and still running, but without the proof: reported and left alone. */
  unproven: Supervisor[];
}

const ended = (stat: ProcStat): boolean => stat.state === 'Z' || stat.state === 'X';

/** The supervisors to look for: the record's writer, and those it was still cleaning up after. */
export function treeSupervisors(record: InstanceRecord): Supervisor[] {
  return [record.supervisor, ...(record.predecessors ?? [])];
}

/**
 * The identities a record names, in the order they matter to a person: each process's child first,
 * then what its sweep was stopping, then what the record's writer was still stopping itself.
 */
export function recordedIdentities(record: InstanceRecord): ProcessIdentity[] {
  const processes = recordProcesses(record);
  const children = processes.flatMap(({ child }) =>
    child ? [{ pid: child.pid, startTime: child.startTime }] : [],
  );
  const sweeping = processes.flatMap((entry) => entry.sweeping ?? []);
  return [...children, ...sweeping, ...record.leftovers];
}

/**
 * The process of the record a leftover was part of: the one whose child it is, or whose child led
 * its group (each child leads a group of its own), or whose sweep named it; undefined if none.
 */
export function ownerOf(
  record: InstanceRecord,
  leftover: { pid: number; pgid: number },
): ProcessRecord | undefined {
  const processes = recordProcesses(record);
  return (
    processes.find(({ child }) => child?.pid === leftover.pid) ??
    processes.find(({ child }) => child?.pid === leftover.pgid) ??
    processes.find(({ sweeping }) =>
      sweeping?.some(({ pid }) => pid === leftover.pid || pid === leftover.pgid),
    )
  );
}

export function leftoverProcesses(facts: LeftoverFacts): Leftovers {
  // Nothing from an earlier boot still runs, and its numbers may name anything now.
  if (facts.record.bootId !== facts.bootId) return { proven: [], unproven: [] };
  // Each supervisor's window: from its start to the start of a later process that got its number.
  const windows = new Map<number, { from: number; before: number }>();
  for (const { supervisor, now } of facts.trees) {
    const before =
      now.exists && now.stat.startTime !== supervisor.startTime ? now.stat.startTime : Infinity;
    windows.set(supervisor.pid, { from: supervisor.startTime, before });
  }
  const proven: Leftover[] = [];
  for (const { pid, stat, keepalivePid } of facts.candidates) {
    const window = keepalivePid === undefined ? undefined : windows.get(keepalivePid);
    if (!window || pid === facts.selfPid || ended(stat) || proven.some((seen) => seen.pid === pid))
      continue;
    if (stat.startTime >= window.from && stat.startTime < window.before) {
      proven.push({
        pid,
        startTime: stat.startTime,
        pgid: stat.pgid,
        keepalivePid: keepalivePid as number,
      });
    }
  }
  const order = recordedIdentities(facts.record).map((identity) => identity.pid);
  const rank = (leftover: Leftover): number => {
    const recorded = order.indexOf(leftover.pid);
    return recorded >= 0 ? recorded : order.length + (leftover.pgid === leftover.pid ? 0 : 1);
  };
  proven.sort((a, b) => rank(a) - rank(b) || a.pid - b.pid);
  const unproven: Supervisor[] = [];
  for (const { identity, facts: now } of facts.recorded) {
    if (!now.exists || ended(now.stat) || now.stat.startTime !== identity.startTime) continue;
    if (
      proven.some((leftover) => leftover.pid === identity.pid) ||
      unproven.some((seen) => seen.pid === identity.pid)
    )
      continue;
    if (identity.pid === facts.selfPid) continue;
    unproven.push({ pid: identity.pid, startTime: now.stat.startTime });
  }
  return { proven, unproven };
}
