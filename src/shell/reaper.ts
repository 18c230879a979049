// Reaps orphaned zombies when keepalive is PID 1 or a subreaper. Node's libuv waits only for the
// pids it spawned, and a waitpid(-1) would steal their statuses from it, so this waits for each
// child that is *not* one of keepalive's own spawns, by pid, without blocking.
import { readdirSync, readFileSync } from 'node:fs';
import { factsFromWaitStatus } from '../core/exit.js';
import { becomeSubreaper, waitpid, WNOHANG } from './native.js';
import { isOwnPid } from './spawn.js';

export interface Reaped {
  pid: number;
  code: number | null;
  signal: number | null;
}

export interface Reaper {
  /** Reaps what is waiting now; also runs on every SIGCHLD. */
  scan(): void;
  stop(): void;
}

/** Every child of this process, from /proc/self/task/<tid>/children (an orphan may be given to any thread). */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    let text = '';
    try {
      text = readFileSync(`/proc/self/task/${task}/children`, 'utf8');
    } catch {
      continue; // the thread ended while we looked
    }
    for (const word of text.split(' ')) if (word !== '' && word !== '\n') pids.push(Number(word));
  }
  return pids;
}

export function startReaper(options: { subreaper: boolean; onReap: (reaped: Reaped) => void }): Reaper {
  if (options.subreaper && !becomeSubreaper()) throw new Error('prctl(PR_SET_CHILD_SUBREAPER) failed');
  const scan = (): void => {
    for (const pid of childPids()) {
      if (isOwnPid(pid)) continue;
      const result = waitpid(pid, WNOHANG);
      if (result.pid === pid) options.onReap({ pid, ...factsFromWaitStatus(result.status) });
    }
  };
  process.on('SIGCHLD', scan);
  scan();
  return { scan, stop: () => process.off('SIGCHLD', scan) };
}
