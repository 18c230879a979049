// A cgroup for each run of the child, each hook and each probe, where keepalive may make them:
// a process cannot leave its cgroup by clearing its environment (`env -i`, `su -`) or by `setsid`,
// so what a run, a hook or a probe started is found and ended whole. The layout, below keepalive's
// own cgroup: keepalive-PID/supervisor (keepalive itself) and keepalive-PID/{run,hook,probe}-N.
// keepalive moves itself into its `supervisor` leaf first, so whatever it spawns starts there and
// is moved into its own leaf in the same turn of the loop as the spawn (see adopt()).
// v2 ends a leaf with cgroup.kill; v1 freezes it (freezer controller), SIGKILLs each pid, thaws.
// Where no cgroup can be made (non-root, systemd's unit cgroups, a read-only mount), all of this
// is off and the environment mark (tree.ts) is what is left.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import {
  cgroupPlaces,
  groupName,
  groupOwner,
  parseProcs,
  SUPERVISOR_LEAF,
  type CgroupChoice,
  type CgroupKind,
  type LeafKind,
} from '../core/cgroup.js';
import { readMember } from './tree.js';

export interface Leaf {
  readonly path: string;
  /** Its live processes (and those of any cgroup it made below itself). */
  pids(): number[];
  /** SIGKILL to every process in it at once: none can fork its way out. */
  kill(): void;
  /** Removes it once empty; false while something is still in it. */
  remove(): boolean;
  /** Done with: killed whole, and removed now or, once it is empty, at a later spawn or the end. */
  retire(): void;
  /** The spawned process could not be moved into it: it says nothing of that spawn. */
  readonly lost: boolean;
}

/** The leaf, if the spawn made with it is in it. */
export function held<T extends Leaf>(leaf: T | undefined): T | undefined {
  return leaf?.lost === true ? undefined : leaf;
}

interface Place {
  kind: CgroupKind;
  home: string;
  group: string;
  supervisor: string;
}

let place: Place | undefined;
let users = 0;
const leaves = new Set<CgroupLeaf>();
/** Killed leaves whose processes the kernel was still ending when they were retired. */
const retired = new Set<CgroupLeaf>();
const counters: Record<LeafKind, number> = { run: 0, hook: 0, probe: 0 };

/** KEEPALIVE_CGROUPS=off|v2|v1|auto: the maintainers' seam (tests pick a hierarchy or none). */
function choice(): CgroupChoice {
  const value = process.env['KEEPALIVE_CGROUPS'];
  return value === 'off' || value === 'v2' || value === 'v1' ? value : 'auto';
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const write = (file: string, text: string): boolean => {
  try {
    writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
};

/** Waits without the event loop: only while the kernel ends processes that were just killed. */
const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** A cgroup and those a process in it made below it (a nested keepalive's), deepest first. */
function removeTree(directory: string): boolean {
  try {
    for (const entry of readdirSync(directory, { withFileTypes: true }))
      if (entry.isDirectory()) removeTree(`${directory}/${entry.name}`);
  } catch {
    // gone meanwhile
  }
  return removeDirectory(directory);
}

const removeDirectory = (directory: string): boolean => {
  try {
    rmdirSync(directory);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
};

/** Where this process may make cgroups (before it moved into one of its own). */
function places(): ReturnType<typeof cgroupPlaces> {
  return cgroupPlaces({
    mountinfo: read('/proc/self/mountinfo') ?? '',
    procSelfCgroup: read('/proc/self/cgroup') ?? '',
    choice: choice(),
    underSystemd: read('/proc/1/comm') === 'systemd\n',
  });
}

/** Moves keepalive into cgroups of its own, if it may; says which kind, or undefined. */
export function openCgroups(): CgroupKind | undefined {
  users++;
  if (place || users > 1) return place?.kind;
  for (const { kind, home } of places()) {
    removeAbandoned(home);
    const group = `${home}/${groupName(process.pid)}`;
    const supervisor = `${group}/${SUPERVISOR_LEAF}`;
    try {
      mkdirSync(group);
      mkdirSync(supervisor);
    } catch {
      removeDirectory(group);
      continue;
    }
    const usable = existsSync(`${group}/${kind === 'v2' ? 'cgroup.kill' : 'freezer.state'}`);
    if (usable && write(`${supervisor}/cgroup.procs`, String(process.pid))) {
      place = { kind, home, group, supervisor };
      process.once('exit', closeAll);
      return kind;
    }
    removeDirectory(supervisor);
    removeDirectory(group);
  }
  return undefined;
}

/** Ends what is left in keepalive's cgroups and removes them (the last user's call does). */
export function closeCgroups(): void {
  users = Math.max(0, users - 1);
  if (users === 0) closeAll();
}

function closeAll(): void {
  const current = place;
  if (!current) return;
  place = undefined;
  process.off('exit', closeAll);
  for (const leaf of leaves) leaf.kill();
  write(`${current.home}/cgroup.procs`, String(process.pid));
  for (const leaf of leaves) removeSoon(leaf);
  leaves.clear();
  retired.clear();
  removeDirectory(current.supervisor);
  removeDirectory(current.group);
}

/** A killed leaf empties as the kernel ends its processes: a moment, looked at without the loop. */
function removeSoon(leaf: CgroupLeaf): void {
  const until = Date.now() + 2_000;
  while (!leaf.remove() && Date.now() < until) pause(5);
}

/**
 * The cgroups a keepalive killed with SIGKILL left: its leaves stay (their processes too, found
 * and stopped by the next keepalive of the same pidfile), the empty ones are removed here.
 */
function removeAbandoned(home: string): void {
  let names: string[];
  try {
    names = readdirSync(home);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = groupOwner(name);
    if (owner === undefined) continue;
    // A live keepalive is in its supervisor leaf until it removes its cgroups itself; the leaf is
    // read, not /proc (a pid namespace numbers processes otherwise). One named after this process
    // (a container's PID 1 started again in the same cgroup) is a predecessor's.
    const supervisor = read(`${home}/${name}/${SUPERVISOR_LEAF}/cgroup.procs`);
    if (supervisor !== undefined && parseProcs(supervisor).length > 0) continue;
    // Nor one whose owner lives: it may be between making its leaf and moving into it.
    if (owner !== process.pid && isAlive(owner)) continue;
    removeTree(`${home}/${name}`);
  }
}

/**
 * Every process in the cgroups of the keepalive `owner` (a killed one's run, hooks and probes),
 * under the cgroup this process came from: what is there is that keepalive's, environment or not.
 */
export function processesInGroupOf(owner: number): number[] {
  const homes = place ? [place.home] : places().map((where) => where.home);
  return homes
    .flatMap((home) => pidsBelow(`${home}/${groupName(owner)}`))
    .filter((pid) => pid !== owner);
}

/**
 * A new leaf for a spawn; undefined where keepalive has no cgroups. `adopt` must be called with
 * the pid right after the spawn, in the same turn of the loop.
 */
export function newLeaf(kind: LeafKind): (Leaf & { adopt(pid: number): void }) | undefined {
  if (!place) return undefined;
  for (const leaf of retired) if (leaf.remove()) retired.delete(leaf);
  const path = `${place.group}/${kind}-${++counters[kind]}`;
  try {
    mkdirSync(path);
  } catch {
    return undefined;
  }
  const leaf = new CgroupLeaf(path, place);
  leaves.add(leaf);
  return leaf;
}

/** The live processes of a cgroup and of those below it. */
function pidsBelow(directory: string): number[] {
  const pids = parseProcs(read(`${directory}/cgroup.procs`) ?? '');
  try {
    for (const entry of readdirSync(directory, { withFileTypes: true }))
      if (entry.isDirectory()) pids.push(...pidsBelow(`${directory}/${entry.name}`));
  } catch {
    // removed meanwhile
  }
  return pids;
}

class CgroupLeaf implements Leaf {
  readonly path: string;
  lost = false;
  readonly #place: Place;

  constructor(path: string, where: Place) {
    this.path = path;
    this.#place = where;
  }

  /**
   * The spawned process, and anything it forked before it was moved: nothing but keepalive is in
   * the supervisor leaf between spawns, and no other spawn runs before this returns, so every
   * other process found there is this one's. The kernel orders fork against a move (a fork
   * finishes in the old cgroup, where the next look sees it), so looking until none is left misses
   * none.
   */
  adopt(pid: number): void {
    // Refused (the leaf was removed under us, a cgroup that takes no process): the spawn goes on
    // without it, tracked the old way. A child that has already ended cannot be moved, nor needs
    // to be.
    if (!write(`${this.path}/cgroup.procs`, String(pid)) && readMember(pid) !== undefined) {
      this.lost = true;
      this.retire();
      return;
    }
    for (let round = 0; round < 1_000; round++) {
      const strays = parseProcs(read(`${this.#place.supervisor}/cgroup.procs`) ?? '').filter(
        (other) => other !== process.pid,
      );
      if (strays.length === 0) return;
      for (const stray of strays) write(`${this.path}/cgroup.procs`, String(stray));
    }
  }

  pids(): number[] {
    return pidsBelow(this.path);
  }

  kill(): void {
    if (this.#place.kind === 'v2') {
      write(`${this.path}/cgroup.kill`, '1');
      return;
    }
    // v1 has no cgroup.kill: frozen, none of them can fork while each is killed; thawed, they die.
    if (this.pids().length === 0) return;
    write(`${this.path}/freezer.state`, 'FROZEN');
    const until = Date.now() + 1_000;
    while (read(`${this.path}/freezer.state`)?.trim() === 'FREEZING' && Date.now() < until)
      pause(1);
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    write(`${this.path}/freezer.state`, 'THAWED');
  }

  remove(): boolean {
    if (!removeTree(this.path)) return false;
    leaves.delete(this);
    return true;
  }

  retire(): void {
    this.kill();
    if (!this.remove()) retired.add(this);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
