// No test leaves a process: what the tests start is ended with everything it started, when the
// test file's worker ends (even killed by ava's timeout or by Ctrl+C), and at the end of the run
// (scripts/test-run.mjs). keepalive's children lead sessions of their own, so a signal to
// keepalive's process group misses them: they are found as descendants, from /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** The variable every process of one `npm test` run has in its environment: it names the run. */
export const RUN_VARIABLE = 'TEST_KEEPALIVE_RUN';

/** When the process started (clock ticks since boot), to tell it from a later one with its pid. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
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

/** The process's children, theirs, and so on. */
export function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILL to these processes and all their descendants. Each is stopped first, so that none forks
 * or restarts a child between the look and the kill; stopped processes are looked at again until
 * no new one turns up.
 */
export function endTrees(roots: readonly number[]): void {
  const seen = new Set<number>();
  let next = roots.filter((pid) => pid !== process.pid);
  while (next.length > 0) {
    for (const pid of next) {
      seen.add(pid);
      send(pid, 'SIGSTOP');
    }
    next = next.flatMap(childrenOf).filter((pid) => !seen.has(pid) && pid !== process.pid);
  }
  for (const pid of seen) send(pid, 'SIGKILL');
}

/** Every live process (zombies aside) whose environment has RUN_VARIABLE=run, this one aside. */
export function processesOfRun(run: string): Array<{ pid: number; argv: string[] }> {
  const wanted = `${RUN_VARIABLE}=${run}`;
  const found: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!(pid > 0) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      found.push({
        pid,
        argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1),
      });
    } catch {
      // Ended while we looked.
    }
  }
  return found;
}

const tracked = new Map<number, string | undefined>();

/** The processes tracked so far that still run (the same process: not a later one with its pid). */
function stillRunning(): number[] {
  return [...tracked]
    .filter(([pid, start]) => start !== undefined && startTime(pid) === start)
    .map(([pid]) => pid);
}

function endTracked(): void {
  endTrees(stillRunning());
  tracked.clear();
}

let listening = false;

/**
 * Ends this process, and all it started, when the worker ends: at its exit, when a signal ends it
 * (ava's timeout and Ctrl+C send SIGTERM, and Node runs no exit handler then), and when ava itself
 * is gone (its channel to the worker closes; the worker would run on, orphaned).
 */
export function endWithWorker(pid: number | undefined): void {
  if (pid === undefined) return;
  tracked.set(pid, startTime(pid));
  if (listening) return;
  listening = true;
  process.on('exit', endTracked);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      endTracked();
      process.kill(process.pid, signal);
    });
  }
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
