// What runs right now, from /proc: tests count their own processes by a unique marker argument,
// so that tests running at the same time never see each other's.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';

export interface Running {
  pid: number;
  argv: string[];
  state: string;
  sid: number;
}

/** Every process that has not ended (zombies excluded), with its command line. */
export function running(): Running[] {
  const found: Running[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0] ?? '';
      if (state === 'Z' || state === 'X') continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').slice(0, -1);
      found.push({ pid: Number(name), argv, state, sid: Number(fields[3]) });
    } catch {
      // Ended while we looked.
    }
  }
  return found;
}

/** keepalive by its command line: the installed command, the bin, the bundle, the plain build. */
export const isKeepalive = (argv: readonly string[]): boolean =>
  argv.some((word) => /\/(?:bin\/keepalive|bin\.cjs|keepalive\.cjs|cli\.js)$/.test(word));

/**
 * The business processes: marker as a whole argument, not keepalive itself, and leading a session
 * of its own as keepalive's children do. A shell's fork before it execs a command has the shell's
 * arguments for a moment, but not its own session: it is not a second business process.
 */
export function children(marker: string): Running[] {
  return running().filter(
    (process) =>
      process.argv.includes(marker) && !isKeepalive(process.argv) && process.sid === process.pid,
  );
}

/** keepalive processes whose command line holds the marker. */
export function supervisors(marker: string): Running[] {
  return running().filter((process) => process.argv.includes(marker) && isKeepalive(process.argv));
}

/** The state letter from /proc/<pid>/stat (R, S, T, Z ...), or undefined if it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * The resident memory of a process in KiB (VmRSS in /proc/<pid>/status); undefined once it is gone
 * or a zombie (which has no VmRSS line): a sampler may outlive what it samples by one tick.
 */
export function rssKiB(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether a shell child is stopped: it is in T, or, caught in vfork() when SIGSTOP came, it waits
 * in D for a child of its own that is in T.
 */
export function stoppedTree(pid: number): boolean {
  return processState(pid) === 'T' || childrenOf(pid).some((child) => processState(child) === 'T');
}

/** The pids whose parent is `pid`, from every thread's /proc children list. */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) found.push(...text.split(' ').map(Number));
    }
  } catch {
    // Gone.
  }
  return found;
}

/** A number no other test uses, to pass as `sleep`'s argument (or a fixture's). */
export function uniqueMarker(): string {
  return String(100_000_000 + Math.floor(Math.random() * 800_000_000));
}

/** Polls until `condition` holds; fails the test with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  condition: () => T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A temporary directory, removed with everything still running under the marker when the test ends.
 */
export function workspace(t: ExecutionContext, marker: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-cron-'));
  t.teardown(() => {
    killMarked(marker);
    rmSync(directory, { recursive: true, force: true });
  });
  return directory;
}

/** SIGKILL to every process of this test: by pid, found by the test's own marker. */
export function killMarked(marker: string): void {
  for (const process_ of [...supervisors(marker), ...children(marker)]) {
    try {
      process.kill(process_.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
