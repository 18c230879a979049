// The password and group databases, through libc's own getpwnam_r, getgrnam_r and getgrouplist:
// the system's NSS (files, LDAP, sssd, systemd's dynamic users) answers, exactly as it does for
// su, setpriv and systemd, without a process per question and without parsing /etc files that
// hold only part of the answer. koffi lays out struct passwd and struct group for this platform.
import type Koffi from 'koffi';
import { loadLibc } from './native.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

/** What a lookup found: the entry, none (the database has no such name), or an error's errno. */
export type Found<T> = { entry: T } | { entry: undefined } | { errno: number };

const ERANGE = 34;
/** Errors getpwnam_r(3) lists as "not found" besides a plain 0 with no result. */
const NOT_FOUND = new Set([0, 2, 3, 9, 1]); // 0, ENOENT, ESRCH, EBADF, EPERM
const FIRST_BUFFER = 4096;
const MOST_BUFFER = 1 << 20;

type Lookup = (
  key: string | number,
  out: object,
  buffer: Buffer,
  size: number,
  result: unknown[],
) => number;

interface Bound {
  getpwnam: Lookup;
  getpwuid: Lookup;
  getgrnam: Lookup;
  getgrgid: Lookup;
  getgrouplist: (user: string, gid: number, groups: Uint32Array, count: number[]) => number;
}

let bound: Bound | undefined;

function bind(): Bound {
  if (bound) return bound;
  const { koffi, library } = loadLibc();
  declareTypes(koffi);
  const fn = <T>(signature: string): T => library.func(signature) as T;
  bound = {
    getpwnam: fn(
      'int getpwnam_r(const char *name, _Out_ keepalive_passwd *entry, _Out_ uint8_t *buffer, ' +
        'size_t size, _Out_ void **result)',
    ),
    getpwuid: fn(
      'int getpwuid_r(uint32_t uid, _Out_ keepalive_passwd *entry, _Out_ uint8_t *buffer, ' +
        'size_t size, _Out_ void **result)',
    ),
    getgrnam: fn(
      'int getgrnam_r(const char *name, _Out_ keepalive_group *entry, _Out_ uint8_t *buffer, ' +
        'size_t size, _Out_ void **result)',
    ),
    getgrgid: fn(
      'int getgrgid_r(uint32_t gid, _Out_ keepalive_group *entry, _Out_ uint8_t *buffer, ' +
        'size_t size, _Out_ void **result)',
    ),
    getgrouplist: fn(
      'int getgrouplist(const char *user, uint32_t group, _Out_ uint32_t *groups, ' +
        '_Inout_ int *count)',
    ),
  };
  return bound;
}

function declareTypes(koffi: typeof Koffi): void {
  // The same order in glibc and musl (POSIX names the fields; Linux's libcs agree on the order).
  koffi.struct('keepalive_passwd', {
    name: 'char *',
    password: 'char *',
    uid: 'uint32_t',
    gid: 'uint32_t',
    gecos: 'char *',
    home: 'char *',
    shell: 'char *',
  });
  koffi.struct('keepalive_group', {
    name: 'char *',
    password: 'char *',
    gid: 'uint32_t',
    members: 'void *',
  });
}

/** One *_r lookup, its buffer grown while libc says it is too small. */
function lookUp<T>(call: Lookup, key: string | number, take: (raw: never) => T): Found<T> {
  for (let size = FIRST_BUFFER; size <= MOST_BUFFER; size *= 4) {
    const out = {};
    const result: unknown[] = [null];
    const errno = call(key, out, Buffer.alloc(size), size, result);
    if (errno === ERANGE) continue;
    if (result[0] !== null && result[0] !== undefined) return { entry: take(out as never) };
    return NOT_FOUND.has(errno) ? { entry: undefined } : { errno };
  }
  return { errno: ERANGE };
}

interface RawPasswd {
  name: string | null;
  uid: number;
  gid: number;
  home: string | null;
  shell: string | null;
}

const passwdOf = (raw: RawPasswd): PasswdEntry => ({
  name: raw.name ?? '',
  uid: raw.uid,
  gid: raw.gid,
  home: raw.home ?? '',
  shell: raw.shell ?? '',
});

const groupOf = (raw: { name: string | null; gid: number }): GroupEntry => ({
  name: raw.name ?? '',
  gid: raw.gid,
});

export function userByName(name: string): Found<PasswdEntry> {
  return lookUp(bind().getpwnam, name, passwdOf);
}

export function userById(uid: number): Found<PasswdEntry> {
  return lookUp(bind().getpwuid, uid, passwdOf);
}

export function groupByName(name: string): Found<GroupEntry> {
  return lookUp(bind().getgrnam, name, groupOf);
}

export function groupById(gid: number): Found<GroupEntry> {
  return lookUp(bind().getgrgid, gid, groupOf);
}

/** The groups initgroups(3) would give `user` with `gid` as its group: `gid` among them. */
export function groupList(user: string, gid: number): number[] {
  const { getgrouplist } = bind();
  let groups = new Uint32Array(64);
  for (let attempt = 0; attempt < 8; attempt++) {
    const count = [groups.length];
    if (getgrouplist(user, gid, groups, count) >= 0) return [...groups.subarray(0, count[0])];
    // Too small: glibc says how many there are; musl may not, so at least double it.
    groups = new Uint32Array(Math.max((count[0] ?? 0) + 1, groups.length * 2));
  }
  return [gid];
}
