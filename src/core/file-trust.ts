// Which files keepalive believes: only ones it could have written itself. A file another user can
// write (or owns) may say anything, and keepalive runs as root; so the rule is checked on the
// fstat of the very file descriptor read, never on a name that could change in between.

/** What fstat says about a file, and who is asking. */
export interface FileFacts {
  kind: 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other';
  uid: number;
  gid: number;
  mode: number;
}

export interface Asker {
  uid: number;
  gid: number;
}

const GROUP_WRITE = 0o020;
const OTHER_WRITE = 0o002;
const STICKY = 0o1000;

const KIND_WORDS: Record<FileFacts['kind'], string> = {
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symbolic link, which keepalive does not follow here',
  fifo: 'a FIFO',
  socket: 'a socket',
  device: 'a device',
  other: 'not a regular file',
};

const owner = (
  facts: FileFacts,
  asker: Asker,
  names: (uid: number) => string,
): string | undefined =>
  facts.uid === asker.uid || facts.uid === 0
    ? undefined
    : `it is owned by ${names(facts.uid)}, neither keepalive's user (${names(asker.uid)}) nor root`;

/**
 * Why a file beside FILE is not to be believed (undefined: it may be): a regular file owned by
 * keepalive's own user or by root, that neither its group nor others can write.
 */
export function distrustRecord(
  facts: FileFacts,
  asker: Asker,
  names: (uid: number) => string = uidWords,
): string | undefined {
  if (facts.kind !== 'file') return `it is ${KIND_WORDS[facts.kind]}`;
  const foreign = owner(facts, asker, names);
  if (foreign) return foreign;
  if (facts.mode & OTHER_WRITE) return 'any user can write it';
  if (facts.mode & GROUP_WRITE) return `its group (gid ${facts.gid}) can write it`;
  return undefined;
}

/**
 * Why a --log-file is not to be written: as for the files beside FILE, but a group write bit is
 * fine for keepalive's own group or root's (a umask of 002 with a group of one's own is common).
 */
export function distrustLogFile(
  facts: FileFacts,
  asker: Asker,
  names: (uid: number) => string = uidWords,
): string | undefined {
  if (facts.kind !== 'file') return `it is ${KIND_WORDS[facts.kind]}`;
  const foreign = owner(facts, asker, names);
  if (foreign) return foreign;
  if (facts.mode & OTHER_WRITE) return 'any user can write it';
  if (facts.mode & GROUP_WRITE && facts.gid !== asker.gid && facts.gid !== 0)
    return `its group (gid ${facts.gid}) can write it`;
  return undefined;
}

/**
 * Why a set's file (-c, --procfile) is not to be run: its commands are run as keepalive's user,
 * root too, so it is judged as a --log-file is (a group write bit only for keepalive's own group
 * or root's).
 */
export const distrustSetFile = distrustLogFile;

/**
 * Why FILE's directory is not to be used: other users who can write it without the sticky bit can
 * remove or rename keepalive's files (its lock among them) at any moment. With the sticky bit
 * (/tmp) they can only add names of their own, and those are refused one by one.
 */
export function distrustDirectory(
  facts: FileFacts,
  asker: Asker,
  names: (uid: number) => string = uidWords,
): string | undefined {
  if (facts.kind !== 'directory') return `it is ${KIND_WORDS[facts.kind]}`;
  const foreign = owner(facts, asker, names);
  if (foreign) return foreign;
  if (facts.mode & STICKY) return undefined;
  if (facts.mode & OTHER_WRITE) return 'any user can write it and it has no sticky bit';
  if (facts.mode & GROUP_WRITE && facts.gid !== asker.gid && facts.gid !== 0)
    return `its group (gid ${facts.gid}) can write it and it has no sticky bit`;
  return undefined;
}

/**
 * Why a step on the way to FILE's directory is not to be trusted: whoever can rename or replace any
 * directory above it can swap the whole subtree under keepalive, so each must pass as FILE's own
 * directory does. A symbolic link on the way must be keepalive's user's or root's (its mode means
 * nothing); where it points is judged as a step too.
 */
export function distrustStep(
  facts: FileFacts,
  asker: Asker,
  names: (uid: number) => string = uidWords,
): string | undefined {
  if (facts.kind === 'symlink') return owner(facts, asker, names);
  return distrustDirectory(facts, asker, names);
}

function uidWords(uid: number): string {
  return `uid ${uid}`;
}
