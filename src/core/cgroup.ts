// Where this process's OOM kill counter is, from the text of /proc/self/mountinfo and
// /proc/self/cgroup. /proc/self/cgroup names a cgroup from the root of its hierarchy (or of the
// cgroup namespace); a container often mounts only its own cgroup, so that path must be taken
// relative to the mount's root (field 4 of mountinfo) before it is appended to the mount point.
// Docker and podman on cgroup
// v1 without a cgroup namespace are the common case: `4:memory:/docker/<id>` with the memory
// hierarchy mounted from /docker/<id> at /sys/fs/cgroup/memory.

export interface CgroupMount {
  /** The directory of the hierarchy that is mounted (field 4), as the reading process sees it. */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

export interface CgroupMembership {
  hierarchy: number;
  /** Empty for the cgroup v2 (unified) hierarchy. */
  controllers: string[];
  path: string;
}

/**
 * The cgroup and cgroup2 mounts in a /proc/self/mountinfo text; other lines and garbage are
 * skipped.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const [root, mountPoint] = [fields[3], fields[4]];
    const [fsType, , superOptions] = fields.slice(separator + 1);
    if (
      separator < 0 ||
      root === undefined ||
      mountPoint === undefined ||
      superOptions === undefined
    )
      continue;
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    mounts.push({
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      fsType,
      superOptions: superOptions.split(','),
    });
  }
  return mounts;
}

/** The lines of /proc/self/cgroup: `hierarchy-id:controllers:path`. */
export function parseCgroupMemberships(procSelfCgroup: string): CgroupMembership[] {
  const memberships: CgroupMembership[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!match) continue;
    const [, hierarchy, controllers, path] = match as unknown as [string, string, string, string];
    memberships.push({
      hierarchy: Number(hierarchy),
      controllers: controllers === '' ? [] : controllers.split(','),
      path,
    });
  }
  return memberships;
}

/**
 * The files that may hold the OOM kill count of this process's memory cgroup, best first: v2
 * `memory.events` and v1 `memory.oom_control`, each under every mount of its hierarchy that can
 * see the cgroup. The caller keeps the first that exists (a v2 hierarchy without the memory
 * controller has no memory.events).
 */
export function oomCounterCandidates(mountinfo: string, procSelfCgroup: string): string[] {
  const mounts = parseCgroupMounts(mountinfo);
  const candidates: string[] = [];
  for (const membership of parseCgroupMemberships(procSelfCgroup)) {
    const v2 = isUnified(membership);
    if (!v2 && !membership.controllers.includes('memory')) continue;
    const file = v2 ? 'memory.events' : 'memory.oom_control';
    for (const directory of directoriesOf(mounts, membership, 'memory'))
      candidates.push(`${directory}/${file}`);
  }
  return candidates;
}

/**
 * The directories of this process's own cgroup in the v2 hierarchy ('v2') or in the v1 hierarchy
 * of one controller, under every mount that can see it, the most specific mount first.
 */
export function cgroupDirectories(
  mountinfo: string,
  procSelfCgroup: string,
  hierarchy: string,
): string[] {
  const mounts = parseCgroupMounts(mountinfo);
  const membership = parseCgroupMemberships(procSelfCgroup).find((line) =>
    hierarchy === 'v2' ? isUnified(line) : line.controllers.includes(hierarchy),
  );
  return membership ? directoriesOf(mounts, membership, hierarchy) : [];
}

const isUnified = (membership: CgroupMembership): boolean =>
  membership.hierarchy === 0 && membership.controllers.length === 0;

/**
 * A cgroup outside every mount's root (a cgroup namespace that inherited the host's mounts shows
 * them as `/..`) gives nothing: its directory cannot be named.
 */
function directoriesOf(
  mounts: readonly CgroupMount[],
  membership: CgroupMembership,
  controller: string,
): string[] {
  const v2 = isUnified(membership);
  const matching = mounts.filter((mount) =>
    v2
      ? mount.fsType === 'cgroup2'
      : mount.fsType === 'cgroup' && mount.superOptions.includes(controller),
  );
  // The most specific mount first: the one whose root is deepest.
  matching.sort((a, b) => b.root.length - a.root.length);
  const directories: string[] = [];
  for (const mount of matching) {
    const inside = relativeTo(mount.root, membership.path);
    if (inside !== undefined)
      directories.push(`${mount.mountPoint === '/' ? '' : mount.mountPoint}${inside}`);
  }
  return directories;
}

/** The cgroup tracking keepalive may use: v2 (cgroup.kill), v1's freezer, or none (the mark). */
export type CgroupKind = 'v2' | 'v1';
export type CgroupChoice = 'auto' | CgroupKind | 'off';

export interface CgroupPlace {
  kind: CgroupKind;
  /** keepalive's own cgroup: its `keepalive-PID` directory goes below it. */
  home: string;
}

/**
 * Where keepalive may make its cgroups, best first: v2, then v1's freezer, as `choice` allows.
 * Under systemd (PID 1 of this namespace) a cgroup below the visible root is a unit's: systemd
 * owns it (and ends the unit's whole cgroup itself), so keepalive makes none there.
 */
export function cgroupPlaces(facts: {
  mountinfo: string;
  procSelfCgroup: string;
  choice: CgroupChoice;
  underSystemd: boolean;
}): CgroupPlace[] {
  const places: CgroupPlace[] = [];
  if (facts.choice === 'off') return places;
  const tried: CgroupKind[] = facts.choice === 'auto' ? ['v2', 'v1'] : [facts.choice];
  for (const kind of tried) {
    const home = cgroupDirectories(
      facts.mountinfo,
      facts.procSelfCgroup,
      kind === 'v2' ? 'v2' : 'freezer',
    )[0];
    if (home === undefined) continue;
    const atRoot = parseCgroupMemberships(facts.procSelfCgroup).some(
      (line) =>
        (kind === 'v2' ? isUnified(line) : line.controllers.includes('freezer')) &&
        line.path === '/',
    );
    if (facts.underSystemd && !atRoot) continue;
    places.push({ kind, home });
  }
  return places;
}

/** The leaves of one keepalive's directory: its own, and one per run, hook and probe. */
export type LeafKind = 'run' | 'hook' | 'probe';
export const SUPERVISOR_LEAF = 'supervisor';

export function groupName(pid: number): string {
  return `keepalive-${pid}`;
}

/** The pid in a `keepalive-PID` directory's name, or undefined for any other name. */
export function groupOwner(name: string): number | undefined {
  const match = /^keepalive-([1-9]\d*)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The pids in a cgroup.procs text (one a line). */
export function parseProcs(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/**
 * `path` below `root` ('' for root itself, '/a/b' below it), or undefined if it is not under it.
 */
function relativeTo(root: string, path: string): string | undefined {
  if (root.split('/').includes('..') || path.split('/').includes('..')) return undefined;
  const base = root.replace(/\/+$/, '');
  const cgroup = path.replace(/\/+$/, '');
  if (cgroup === base) return '';
  return cgroup.startsWith(`${base}/`) ? cgroup.slice(base.length) : undefined;
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040 ...). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}
