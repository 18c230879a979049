// What /proc says about a process: its stat line, one variable of its environment. Every read is
// best effort: a process can end between two of them.
import { readdirSync, readFileSync } from 'node:fs';
import { parseStat, type ProcessFacts, type ProcStat } from '../core/instance-state.js';
import type { Candidate } from '../core/leftover-trees.js';

export function readStat(pid: number | 'self'): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The stat line, if the process exists. */
export function processFacts(pid: number): ProcessFacts {
  const stat = readStat(pid);
  return stat ? { exists: true, stat } : { exists: false };
}

/**
 * This process's start time in clock ticks since boot: with the pid, an identity no later process
 * shares.
 */
export function ownStartTime(): number {
  const stat = readStat('self');
  if (!stat) throw new Error('cannot read /proc/self/stat; --pidfile needs Linux /proc');
  return stat.startTime;
}

/** This boot's id: a pid and a start time recorded in another boot name nothing. */
export function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/**
 * A process's environment as `NAME=value` entries (latin1: compared, never shown); undefined if
 * unreadable.
 */
export function environOf(pid: number | string): string[] | undefined {
  return attempt(() => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0'));
}

/**
 * Every process whose environment says KEEPALIVE_PID=one of `keepalivePids`: what a supervisor
 * started inherits it.
 */
export function processesCarrying(keepalivePids: ReadonlySet<number>): Candidate[] {
  const found: Candidate[] = [];
  if (keepalivePids.size === 0) return found;
  for (const name of attempt(() => readdirSync('/proc')) ?? []) {
    if (!/^\d+$/.test(name)) continue;
    const value = environOf(name)
      ?.find((entry) => entry.startsWith('KEEPALIVE_PID='))
      ?.slice('KEEPALIVE_PID='.length);
    const keepalivePid =
      value !== undefined && /^\d{1,10}$/.test(value) ? Number(value) : undefined;
    if (keepalivePid === undefined || !keepalivePids.has(keepalivePid)) continue;
    const stat = readStat(Number(name));
    if (stat) found.push({ pid: Number(name), stat, keepalivePid });
  }
  return found;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The processes of a group that still run (zombies are done: only their reaping is left). */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of attempt(() => readdirSync('/proc')) ?? []) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X')
      members.push(Number(name));
  }
  return members;
}
