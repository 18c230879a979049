// How many times the kernel's OOM killer has struck in keepalive's memory cgroup (which the child
// inherits): cgroup v2 `memory.events`, or v1 `memory.oom_control`. Both say `oom_kill N`. Which
// file that is comes from /proc/self/mountinfo and /proc/self/cgroup (core/cgroup.ts).
import { existsSync, readFileSync } from 'node:fs';
import { oomCounterCandidates } from '../core/cgroup.js';

export type OomCounter = () => number | undefined;

/** The counter file for this process's memory cgroup, if the kernel offers one. */
export function oomCounterFile(mountinfo: string, procSelfCgroup: string): string | undefined {
  return oomCounterCandidates(mountinfo, procSelfCgroup).find((file) => existsSync(file));
}

export function parseOomKills(text: string): number | undefined {
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

export function oomCounter(file: string | undefined): OomCounter {
  if (file === undefined) return () => undefined;
  return () => {
    try {
      return parseOomKills(readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  };
}

export function discoverOomCounter(): OomCounter {
  try {
    return oomCounter(
      oomCounterFile(
        readFileSync('/proc/self/mountinfo', 'utf8'),
        readFileSync('/proc/self/cgroup', 'utf8'),
      ),
    );
  } catch {
    return () => undefined;
  }
}
