// Whether a sender on the notify socket belongs to the run: its ancestry, read from /proc. The
// kernel's credentials name the sender's pid; walking up from it meets the run's leader, or (when
// keepalive is a subreaper and the leader's orphans come back to it) keepalive itself.
import { readFileSync } from 'node:fs';
import { parseStat } from '../core/instance-state.js';
import { isForeignChild } from '../spawn/children.js';

/** Deeper than any real tree; a bound against a loop should /proc change under our feet. */
const MAX_DEPTH = 4096;

export function inRunTree(pid: number, leader: number, orphans: boolean): boolean {
  let current = pid;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (current === leader) return true;
    const ppid = parentOf(current);
    if (ppid === undefined || ppid <= 1) return false;
    // An orphan given to keepalive is the run's, unless it hangs under another spawn (a probe).
    if (ppid === process.pid) return orphans && !isForeignChild(current, leader);
    current = ppid;
  }
  return false;
}

function parentOf(pid: number): number | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ppid;
  } catch {
    return undefined; // gone, or no /proc
  }
}
