// How many times the kernel's OOM killer has struck in keepalive's memory cgroup (which the child
// inherits): cgroup v2 `memory.events`, or v1 `memory.oom_control`. Both say `oom_kill N`.
import { existsSync, readFileSync } from 'node:fs';

export type OomCounter = () => number | undefined;

/** The counter file for the memory cgroup named in /proc/self/cgroup, if the kernel offers one. */
export function oomCounterFile(procSelfCgroup: string, cgroupRoot = '/sys/fs/cgroup'): string | undefined {
  const candidates: string[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    if (controllers === '') candidates.push(`${cgroupRoot}${path === '/' ? '' : path}/memory.events`);
    if (controllers?.split(',').includes('memory')) candidates.push(`${cgroupRoot}/memory${path === '/' ? '' : path}/memory.oom_control`);
  }
  return candidates.find((file) => existsSync(file));
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
    return oomCounter(oomCounterFile(readFileSync('/proc/self/cgroup', 'utf8')));
  } catch {
    return () => undefined;
  }
}
