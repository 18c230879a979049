// What a set of processes does next, decided from a snapshot: who may start, who fails to start,
// who is stopped now, when the set stops and with which status. Pure: the engine
// (set/process-set.ts) gathers the snapshot, carries out the steps and asks again after each event.
import type { NotStartedEvent } from './events.js';
import { formatDuration } from './duration.js';
import type { Condition, Dependency } from '../set/types.js';

/** keepalive's status for a process that never started: its dependencies did not get there. */
export const FAILED_START_STATUS = 1;

export type MemberPhase =
  /** Not started yet, or stopped to start again with a dependency (restart: true). */
  | 'waiting'
  /** Its supervisor runs: starting, running or backing off before a restart. */
  | 'running'
  /** Sent its stop signal; its supervisor has not ended yet. */
  | 'stopping'
  /** Its supervisor ended. */
  | 'ended'
  /** Never started: a dependency did not reach its condition. */
  | 'failed'
  /** Never started: the set stopped first. */
  | 'skipped';

export interface Member {
  name: string;
  dependsOn: Readonly<Record<string, Dependency>>;
  essential: boolean;
  readyTimeoutMs: number;
  phase: MemberPhase;
  /** When it began to wait (monotonic milliseconds). */
  waitingSince: number;
  /** The conditions it meets now. */
  reached: ReadonlySet<Condition>;
  /** To be stopped and started again once its dependencies' conditions hold again. */
  cycling: boolean;
  /** keepalive's status for it, once ended or failed. */
  status?: number;
  /** Its place in the order of ends (1 first), once ended or failed. */
  endedSeq?: number;
}

export interface SetSnapshot {
  /** The set is being stopped (asked to, or an essential process ended). */
  stopping: boolean;
  now: number;
  /** In the file's order. */
  members: readonly Member[];
  /** The essential process whose end stopped the set, if one did. */
  essential?: string | undefined;
}

export type Step =
  | { kind: 'start'; name: string }
  | {
      kind: 'fail';
      name: string;
      dependency: string;
      condition: Condition;
      reason: 'timeout' | 'ended';
      waitedMs: number;
    }
  | { kind: 'stop'; name: string }
  | { kind: 'skip'; name: string }
  | { kind: 'shut-down'; name: string; status: number }
  | { kind: 'end'; status: number };

/** Ended and will not run again (by itself or with a dependency). */
export function endedForGood(member: Member): boolean {
  return (
    (member.phase === 'ended' && !member.cycling) ||
    member.phase === 'failed' ||
    member.phase === 'skipped'
  );
}

const alive = (member: Member): boolean =>
  member.phase === 'running' || member.phase === 'stopping';

/** The dependencies whose condition does not hold yet, in the file's order. */
export function unmet(
  member: Member,
  byName: ReadonlyMap<string, Member>,
): Array<{ name: string; condition: Condition }> {
  const missing: Array<{ name: string; condition: Condition }> = [];
  for (const [name, { condition }] of Object.entries(member.dependsOn)) {
    const dependency = byName.get(name);
    // One about to be stopped with its dependents (restart: true) is not there for them.
    if (dependency?.reached.has(condition) !== true || dependency.cycling)
      missing.push({ name, condition });
  }
  return missing;
}

/** What to do now; the engine carries the steps out in order and asks again. */
export function plan(snapshot: SetSnapshot): Step[] {
  const { members, now, stopping } = snapshot;
  const byName = new Map(members.map((member) => [member.name, member]));
  if (!stopping) {
    const essential = members.find((member) => member.essential && endedForGood(member));
    if (essential !== undefined)
      return [{ kind: 'shut-down', name: essential.name, status: essential.status ?? 0 }];
  }
  const steps: Step[] = [];
  for (const member of members) {
    if (member.phase === 'waiting') {
      const step = stopping
        ? { kind: 'skip' as const, name: member.name }
        : startStep(member, byName, now);
      if (step !== undefined) steps.push(step);
      continue;
    }
    if (member.phase !== 'running' || !(stopping || member.cycling)) continue;
    // Dependents first: a process is stopped once nothing that depends on it runs (when the set
    // stops), or nothing that cycles with it (when a dependency restarts).
    const waitsFor = members.some(
      (other) =>
        other.dependsOn[member.name] !== undefined && alive(other) && (stopping || other.cycling),
    );
    if (!waitsFor) steps.push({ kind: 'stop', name: member.name });
  }
  if (steps.length === 0 && members.every(endedForGood))
    return [{ kind: 'end', status: finalStatus(members, snapshot.essential) }];
  return steps;
}

/** Start, fail, or nothing yet (undefined). */
function startStep(
  member: Member,
  byName: ReadonlyMap<string, Member>,
  now: number,
): Step | undefined {
  const missing = unmet(member, byName);
  const first = missing[0];
  if (first === undefined) return { kind: 'start', name: member.name };
  const waitedMs = now - member.waitingSince;
  const gone = missing.find(({ name }) => {
    const dependency = byName.get(name);
    return dependency === undefined || endedForGood(dependency);
  });
  if (gone !== undefined)
    return { kind: 'fail', name: member.name, ...dependencyOf(gone), reason: 'ended', waitedMs };
  if (waitedMs >= member.readyTimeoutMs)
    return { kind: 'fail', name: member.name, ...dependencyOf(first), reason: 'timeout', waitedMs };
  return undefined;
}

const dependencyOf = ({ name, condition }: { name: string; condition: Condition }) => ({
  dependency: name,
  condition,
});

/** When a waiting process's ready timeout passes next (monotonic ms), if any waits. */
export function nextDeadline(snapshot: SetSnapshot): number | undefined {
  let first: number | undefined;
  for (const member of snapshot.members) {
    if (member.phase !== 'waiting') continue;
    const at = member.waitingSince + member.readyTimeoutMs;
    if (first === undefined || at < first) first = at;
  }
  return first;
}

/**
 * The set's status once every process has ended: an essential process's when one ended the set,
 * otherwise the first failure's (a non-zero status, a failed start), 0 if none failed.
 */
export function finalStatus(members: readonly Member[], essential?: string): number {
  const chosen = members.find((member) => member.name === essential);
  if (chosen !== undefined) return chosen.status ?? 0;
  let first: Member | undefined;
  for (const member of members) {
    if (member.status === undefined || member.status === 0) continue;
    if (first === undefined || (member.endedSeq ?? Infinity) < (first.endedSeq ?? Infinity))
      first = member;
  }
  return first?.status ?? 0;
}

/**
 * Who is stopped and started again with `name`: itself and, through `restart: true`, every process
 * that depends on it, and theirs in turn.
 */
export function cycleGroup(name: string, members: readonly Member[]): Set<string> {
  const group = new Set([name]);
  for (let grew = true; grew;) {
    grew = false;
    for (const member of members) {
      if (group.has(member.name)) continue;
      const follows = Object.entries(member.dependsOn).some(
        ([other, dependency]) => dependency.restart && group.has(other),
      );
      if (follows) {
        group.add(member.name);
        grew = true;
      }
    }
  }
  return group;
}

const NOT_REACHED: Record<Condition, { timeout: string; ended: string }> = {
  started: { timeout: 'has not started', ended: 'ended before it started' },
  ready: { timeout: 'is not ready', ended: 'ended before it was ready' },
  healthy: { timeout: 'is not healthy', ended: 'ended before it was healthy' },
  completed: { timeout: 'has not completed', ended: 'ended without completing' },
};

/** "worker: not started: migrate has not completed after 60s". */
export function notStartedWords(event: NotStartedEvent): string {
  const what = NOT_REACHED[event.condition][event.reason];
  const after = event.reason === 'timeout' ? ` after ${seconds(event.timeoutMs)}` : '';
  return `${event.name}: not started: ${event.dependency} ${what}${after}`;
}

/** Whole seconds as seconds ("60s", as the ready-timeout is usually written). */
export function seconds(milliseconds: number): string {
  return milliseconds % 1000 === 0 ? `${milliseconds / 1000}s` : formatDuration(milliseconds);
}
