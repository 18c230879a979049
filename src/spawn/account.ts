// --user and --group: who the child (and its health command and on-exit hook) runs as, looked up
// once, before anything starts, in the system's own databases (native/accounts.ts).
//
// posix_spawn cannot change ids, so such a process is started through util-linux's setpriv, which
// sets the groups, the gid and the uid and then execs the command in place: the same pid, so the
// exact wait status, the session and process group, the notify pipe and the cgroup are the
// command's as before, and no extra process stays. Node's child_process `uid`/`gid` was the other
// way: libuv drops every supplementary group there (setgroups(0)), and keepalive would lose the
// kernel's wait status (children.ts) for those children. setpriv is given the ids as numbers and
// the groups as a list, so it does no lookup of its own: what was checked here is what runs.
import { existsSync, readFileSync } from 'node:fs';
import {
  groupById,
  groupByName,
  groupList,
  userById,
  userByName,
  type Found,
  type PasswdEntry,
} from '../native/accounts.js';

export interface Account {
  /** Undefined: keepalive's own user (only --group was given). */
  uid: number | undefined;
  gid: number;
  /** The supplementary groups; undefined: keepalive's own are kept (only --group was given). */
  groups: readonly number[] | undefined;
  /**
   * Set over the environment of what runs as the account; undefined removes the variable (a uid
   * the password database does not know has no HOME, and must not be told root's).
   */
  env: Readonly<Record<string, string | undefined>>;
  /** setpriv and its words, up to and with `--`: the command and its arguments follow. */
  wrapper: readonly string[];
}

/** Why a --user or --group cannot be had, said of the option it is about. */
export interface AccountProblem {
  key: 'user' | 'group';
  value: string | number;
  why: string;
}

/** Where setpriv is looked for: system directories only (keepalive is root; PATH may not be). */
const SETPRIV_PLACES = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];
const CAP_SETGID = 6;
const CAP_SETUID = 7;

const looked = new Map<string, Account | AccountProblem>();

/** The account to run as, or what is wrong; the same answer for the same words (a set, the CLI). */
export function resolveAccount(
  user: string | number | undefined,
  group: string | number | undefined,
): Account | AccountProblem | undefined {
  if (user === undefined && group === undefined) return undefined;
  const key = JSON.stringify([user, group]);
  let answer = looked.get(key);
  if (answer === undefined) looked.set(key, (answer = lookUpAccount(user, group)));
  return answer;
}

export function isProblem(value: Account | AccountProblem): value is AccountProblem {
  return 'why' in value;
}

const isId = (value: string | number): boolean => typeof value === 'number' || /^\d+$/.test(value);

function lookUpAccount(
  user: string | number | undefined,
  group: string | number | undefined,
): Account | AccountProblem {
  const asked = (user ?? group) as string | number;
  const askedKey = user === undefined ? 'group' : 'user';
  if (process.platform !== 'linux')
    return { key: askedKey, value: asked, why: 'running as another user or group needs Linux' };
  let entry: PasswdEntry | undefined;
  if (user !== undefined) {
    const found: Found<PasswdEntry> = isId(user) ? userById(Number(user)) : userByName(`${user}`);
    if ('errno' in found)
      return {
        key: 'user',
        value: user,
        why: `the password database could not be read (errno ${found.errno})`,
      };
    entry = found.entry;
    if (entry === undefined && (!isId(user) || group === undefined))
      return {
        key: 'user',
        value: user,
        why:
          'no such user in the password database' +
          (isId(user) ? '; a uid without an entry needs --group' : ''),
      };
  }
  let gid = entry?.gid;
  if (group !== undefined) {
    const found = isId(group) ? groupById(Number(group)) : groupByName(`${group}`);
    if ('errno' in found)
      return {
        key: 'group',
        value: group,
        why: `the group database could not be read (errno ${found.errno})`,
      };
    // A gid is a number the kernel takes with or without a name; a name must be known.
    if (found.entry === undefined && !isId(group))
      return { key: 'group', value: group, why: 'no such group in the group database' };
    gid = found.entry?.gid ?? Number(group);
  }
  const refused = privilegeProblem(user !== undefined);
  if (refused !== undefined) return { key: askedKey, value: asked, why: refused };
  const setpriv = SETPRIV_PLACES.find((place) => existsSync(place));
  if (setpriv === undefined)
    return {
      key: askedKey,
      value: asked,
      why:
        'keepalive starts such a command through setpriv (util-linux), and it is not in ' +
        `${SETPRIV_PLACES.join(', ')}; install it`,
    };
  const uid = user === undefined ? undefined : (entry?.uid ?? Number(user));
  const groups = user === undefined ? undefined : entry ? groupList(entry.name, gid as number) : [];
  const env: Record<string, string | undefined> =
    user === undefined
      ? {}
      : entry
        ? {
            HOME: entry.home || '/',
            USER: entry.name,
            LOGNAME: entry.name,
            // passwd(5): an empty shell field means /bin/sh.
            SHELL: entry.shell || '/bin/sh',
          }
        : { HOME: undefined, USER: undefined, LOGNAME: undefined, SHELL: undefined };
  return {
    uid,
    gid: gid as number,
    groups,
    env,
    // With the uid changed, setpriv still holds root's capabilities when it execs (it keeps them
    // to set the groups), so the exec's permission checks would be root's: a second setpriv, which
    // has none left, execs the command as the user alone would (PATH's directories, the x bits).
    wrapper: [
      setpriv,
      ...setprivWords(uid, gid as number, groups),
      '--',
      ...(uid === undefined ? [] : [setpriv, '--']),
    ],
  };
}

function setprivWords(
  uid: number | undefined,
  gid: number,
  groups: readonly number[] | undefined,
): string[] {
  const words = uid === undefined ? [] : [`--reuid=${uid}`];
  words.push(`--regid=${gid}`);
  if (groups === undefined) words.push('--keep-groups');
  else if (groups.length === 0) words.push('--clear-groups');
  else words.push(`--groups=${groups.join(',')}`);
  return words;
}

/**
 * Why keepalive cannot change ids, if it cannot: it must be root, with CAP_SETUID and CAP_SETGID in
 * its bounding set (what root's exec of setpriv gets; a container may have dropped them).
 */
function privilegeProblem(changesUser: boolean): string | undefined {
  const euid = process.geteuid?.() ?? -1;
  if (euid !== 0)
    return (
      `keepalive runs as uid ${euid}, not root; only root can run a command as another ` +
      (changesUser ? 'user' : 'group')
    );
  let bounding: bigint;
  try {
    const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!line?.[1]) return undefined;
    bounding = BigInt(`0x${line[1]}`);
  } catch {
    return undefined; // no /proc: setpriv will say so itself if it cannot
  }
  const needed = changesUser ? [CAP_SETUID, CAP_SETGID] : [CAP_SETGID];
  const missing = needed.filter((cap) => (bounding & (1n << BigInt(cap))) === 0n);
  if (missing.length === 0) return undefined;
  const names = missing.map((cap) => (cap === CAP_SETUID ? 'CAP_SETUID' : 'CAP_SETGID'));
  return (
    `keepalive's capability bounding set lacks ${names.join(' and ')}, which changing ids needs ` +
    '(a container started without them?)'
  );
}
