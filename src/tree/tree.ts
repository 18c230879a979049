// The child's whole process tree, read from /proc. keepalive is a child subreaper, so whatever
// the child leaves behind (a daemon that double-forks, a `setsid` job) is reparented to keepalive
// rather than to init: walking down from keepalive's own children finds every descendant, in any
// process group or session. Zombies are done (only their reaping is left) and are not members.
import { readFileSync } from 'node:fs';
import { parseStat } from '../core/instance-state.js';
import type { SignalName } from '../core/signals.js';
import { who } from '../core/who.js';
import { childPids, hasChildren, isForeignChild, isOrphan } from '../spawn/children.js';
import type { Leaf } from './cgroups.js';
import type { LeaderGroup } from './process-group.js';
import { environOf, liveGroupMembers } from './proc.js';

export interface Member {
  pid: number;
  /** Clock ticks since boot: with the pid, an identity a later process cannot share. */
  startTime: number;
  pgid: number;
  /** The kernel's short name for it (comm), for log lines. */
  name: string;
  /** Stopped (T: SIGSTOP, Ctrl+Z; t: traced). */
  stopped: boolean;
}

/** Where /proc is missing (not Linux), the tree is unknown: the process group is all there is. */
export const TREE_KNOWN = process.platform === 'linux';

export function readMember(pid: number): Member | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const stat = parseStat(text);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
  return {
    pid,
    startTime: stat.startTime,
    pgid: stat.pgid,
    name,
    stopped: stat.state === 'T' || stat.state === 't',
  };
}

/** The session a process is in (the run's leader leads its own); undefined once it is gone. */
function sessionOf(pid: number): number | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.sid;
  } catch {
    return undefined;
  }
}

/**
 * Every live process of the run led by `leader`. When keepalive is a subreaper (`orphans`), that
 * is all of keepalive's descendants but those under another spawn (a health probe ends on its own
 * terms); otherwise only what still descends from the leader (an embedding program's other
 * children are none of the run's business). A process forking while this runs may be missed:
 * callers look again.
 */
export function liveTree(leader: number, orphans: boolean, bySession = false): Member[] {
  if (!TREE_KNOWN) return [];
  const found: Member[] = [];
  // Nothing at all came back to keepalive (after each exit, usually): no /proc to read.
  if (orphans && !hasChildren()) return found;
  const seen = new Set<number>();
  // An orphan a hook or a probe left (`setsid job &`) is not the child's: it carries the mark.
  // Beside other runs (a set), an orphan is this run's only if it is still in its session.
  const pending = orphans
    ? childPids().filter(
        (pid) =>
          !isForeignChild(pid, leader) &&
          (pid === leader || (!isHelpers(pid) && (!bySession || sessionOf(pid) === leader))),
      )
    : [leader];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    const member = readMember(pid);
    if (member) found.push(member);
    // A zombie's children were already given to its reaper (keepalive): they show up there.
    pending.push(...childPids(pid));
  }
  return found;
}

/**
 * The run's live processes: those in its cgroup where it has one (in any session and environment,
 * under any parent); else its tree, and when keepalive is no subreaper (--no-subreaper, an
 * embedding program), the members of the leader's group that were reparented elsewhere.
 */
export function runMembers(
  group: LeaderGroup,
  orphans: boolean,
  leaf?: Leaf,
  bySession = false,
): Member[] {
  if (leaf) return leaf.pids().flatMap((pid) => readMember(pid) ?? []);
  const leader = group.pgid;
  // Without the subreaper the run is found by the leader's number: once that is another's, by
  // nothing.
  if (!orphans && !group.ours) return [];
  const tree = liveTree(leader, orphans, bySession);
  if (orphans || !TREE_KNOWN) return tree;
  // A group with nothing left in it answers ESRCH: only a live one is worth reading all of /proc
  // for.
  if (!group.signal(0)) return tree;
  const known = new Set(tree.map((member) => member.pid));
  for (const pid of liveGroupMembers(leader)) {
    const member = known.has(pid) ? undefined : readMember(pid);
    if (member) tree.push(member);
  }
  return tree;
}

/**
 * Where keepalive has no cgroups (cgroups.ts), hooks and health probes run with this variable set
 * to keepalive's pid, so that what they leave behind, in any session, is told apart from the
 * child's tree and ended with them. A process that clears its environment sheds it.
 */
const HELPER_MARK = `KEEPALIVE_HELPER=${process.pid}`;

export function helperEnv<T extends Record<string, string | undefined>>(
  env: T,
): T & { KEEPALIVE_HELPER: string } {
  return { ...env, KEEPALIVE_HELPER: String(process.pid) };
}

function isHelpers(pid: number): boolean {
  return environOf(pid)?.includes(HELPER_MARK) === true;
}

/** SIGKILL to what hooks and probes left that came back to keepalive, and to all below it. */
export function killHelperLeftovers(): void {
  if (!TREE_KNOWN) return;
  const pending = childPids().filter((pid) => isOrphan(pid) && isHelpers(pid));
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    pending.push(...childPids(pid));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Sends to one process, if it is still the one we knew (its start time proves it). */
export function signalMember(member: Member, signal: SignalName): boolean {
  const now = readMember(member.pid);
  if (!now || now.startTime !== member.startTime) return false;
  try {
    process.kill(member.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGCONT to the leader's group if any of it is stopped, and to each stopped process outside it.
 */
export function resumeStopped(group: LeaderGroup, members: readonly Member[]): void {
  const leader = group.pgid;
  const leaderStopped = group.ours && readMember(leader)?.stopped === true;
  if (leaderStopped || members.some((member) => member.pgid === leader && member.stopped))
    group.signal('SIGCONT');
  for (const member of members)
    if (member.pgid !== leader && member.stopped) signalMember(member, 'SIGCONT');
}

/** "sleep[812], sh[813]": the members as log lines name processes. */
export function memberList(members: readonly Member[], limit = 5): string {
  const named = members.slice(0, limit).map((member) => who(member.name, member.pid));
  return members.length > limit
    ? `${named.join(', ')} and ${members.length - limit} more`
    : named.join(', ');
}
