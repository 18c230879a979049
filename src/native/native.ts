// The libc calls Node does not offer, through koffi (prebuilt binaries, no compiler needed):
// posix_spawn and waitpid for keepalive's own children, prctl for the subreaper, flock for the
// single instance. koffi is loaded on first use, so a run that needs none of them pays nothing.
import { constants, endianness } from 'node:os';
import type Koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import { requireKoffi } from './koffi.js';
import { libcToLoad } from './libc.js';

const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;
const ENOSYS = 38;
const O_CLOEXEC = 0o2000000;
const O_RDWR = 2;
export const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const WALL = 0x40000000;
const P_ALL = 0;
const ECHILD = 10;
/** posix_spawnattr flags: the same values in glibc and musl. */
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/** Opaque libc structures, sized generously: glibc's are 80 and 336 bytes, musl's smaller. */
const FILE_ACTIONS_BYTES = 256;
const SPAWN_ATTR_BYTES = 1024;
const SIGSET_BYTES = 128;

type CString = string | Buffer | null;

interface Libc {
  koffi: typeof Koffi;
  waitpid: (pid: number, status: number[], options: number) => number;
  waitid: (idtype: number, id: number, info: Buffer, options: number) => number;
  prctl: (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
  prctlGet: (option: number, value: number[], arg3: number, arg4: number, arg5: number) => number;
  flock: (fd: number, operation: number) => number;
  posixSpawn: (
    pid: number[],
    path: CString,
    actions: Buffer,
    attr: Buffer,
    argv: CStrings,
    envp: CStrings,
  ) => number;
  actionsInit: (actions: Buffer) => number;
  actionsDestroy: (actions: Buffer) => number;
  addDup2: (actions: Buffer, fd: number, newfd: number) => number;
  addOpen: (actions: Buffer, fd: number, path: string, flags: number, mode: number) => number;
  /** glibc 2.29 and later, musl 1.1.24 and later. */
  addChdir: ((actions: Buffer, path: string) => number) | undefined;
  attrInit: (attr: Buffer) => number;
  attrDestroy: (attr: Buffer) => number;
  setFlags: (attr: Buffer, flags: number) => number;
  setSigMask: (attr: Buffer, set: Buffer) => number;
  setSigDefault: (attr: Buffer, set: Buffer) => number;
  sigEmptySet: (set: Buffer) => number;
  sigFillSet: (set: Buffer) => number;
  pipe2: (fds: number[], flags: number) => number;
  close: (fd: number) => number;
  fcntl: (fd: number, command: number, argument: number) => number;
  fcntlOwner: (fd: number, command: number, owner: Buffer) => number;
  read: (fd: number, buffer: Buffer, length: number) => number;
}

let libc: Libc | undefined;

/**
 * koffi and this process's libc, for the other native modules (native-socket.ts): one load, one
 * place.
 */
export function loadLibc(): { koffi: typeof Koffi; library: LibraryHandle } {
  load();
  return { koffi: (libc as Libc).koffi, library: library as LibraryHandle };
}

let library: LibraryHandle | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = requireKoffi();
  const lib = (library = koffi.load(libcToLoad()));
  const fn = <T>(signature: string): T => lib.func(signature) as T;
  libc = {
    koffi,
    waitpid: fn('int waitpid(int pid, _Out_ int *status, int options)'),
    waitid: fn('int waitid(int idtype, int id, void *info, int options)'),
    prctl: fn(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, ' +
        'unsigned long arg5)',
    ),
    prctlGet: fn(
      'int prctl(int option, _Out_ int *value, unsigned long arg3, unsigned long arg4, unsigned ' +
        'long arg5)',
    ),
    flock: fn('int flock(int fd, int operation)'),
    posixSpawn: fn(
      'int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char ' +
        '**argv, const char **envp)',
    ),
    actionsInit: fn('int posix_spawn_file_actions_init(void *actions)'),
    actionsDestroy: fn('int posix_spawn_file_actions_destroy(void *actions)'),
    addDup2: fn('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    addOpen: fn(
      'int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, ' +
        'unsigned int mode)',
    ),
    addChdir: optional(() =>
      fn('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
    ),
    attrInit: fn('int posix_spawnattr_init(void *attr)'),
    attrDestroy: fn('int posix_spawnattr_destroy(void *attr)'),
    setFlags: fn('int posix_spawnattr_setflags(void *attr, short flags)'),
    setSigMask: fn('int posix_spawnattr_setsigmask(void *attr, void *set)'),
    setSigDefault: fn('int posix_spawnattr_setsigdefault(void *attr, void *set)'),
    sigEmptySet: fn('int sigemptyset(void *set)'),
    sigFillSet: fn('int sigfillset(void *set)'),
    pipe2: fn('int pipe2(_Out_ int *fds, int flags)'),
    close: fn('int close(int fd)'),
    fcntl: fn('int fcntl(int fd, int command, int argument)'),
    fcntlOwner: fn('int fcntl(int fd, int command, void *owner)'),
    read: fn('intptr_t read(int fd, _Out_ void *buffer, size_t length)'),
  };
  return libc;
}

/** A function an older libc may lack: undefined there, instead of failing the whole load. */
function optional<T>(bind: () => T): T | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/** Whether posix_spawn can give the child a working directory (older glibc cannot). */
export function canChdir(): boolean {
  return load().addChdir !== undefined;
}

/**
 * waitpid(pid, &status, options): the pid reaped (0 if still running, -1 on error) and its raw
 * status.
 */
export function waitpid(pid: number, options: number): { pid: number; status: number } {
  const status = [0];
  const reaped = load().waitpid(pid, status, options);
  return { pid: reaped, status: status[0] ?? 0 };
}

const LITTLE_ENDIAN = endianness() === 'LE';
/** siginfo_t: 128 bytes on Linux. */
const siginfo = Buffer.alloc(128);
/** Where si_pid is in siginfo_t on this platform (siginfoPidOffset). */
let pidOffset: number | undefined;

/**
 * si_pid follows si_signo, si_errno and si_code, at the start of a union that holds pointers: so
 * its place depends on the ABI (16 on 64-bit, 12 on 32-bit). koffi lays the same out here.
 */
function siginfoPidOffset(koffi: typeof Koffi): number {
  if (pidOffset !== undefined) return pidOffset;
  const fields = koffi.union('keepalive_sifields', { pid: 'int', pointer: 'void *' });
  const head = koffi.struct('keepalive_siginfo', {
    signo: 'int',
    errno: 'int',
    code: 'int',
    fields,
  });
  return (pidOffset = koffi.offsetof(head, 'fields'));
}

/**
 * A child that has ended, asked without reaping it (waitid, WNOWAIT): its pid, 0 if none has
 * ended, -1 if this process has no child at all, undefined if the kernel would not say. One call,
 * where reading /proc costs a file per thread of keepalive.
 */
export function endedChild(): number | undefined {
  const { koffi, waitid } = load();
  siginfo.fill(0);
  if (waitid(P_ALL, 0, siginfo, WEXITED | WNOHANG | WNOWAIT | WALL) !== 0) {
    return koffi.errno() === ECHILD ? -1 : undefined;
  }
  const int = (at: number): number =>
    LITTLE_ENDIAN ? siginfo.readInt32LE(at) : siginfo.readInt32BE(at);
  const pid = int(siginfoPidOffset(koffi));
  // The layout's check at each use: a child's end is told with SIGCHLD in si_signo (Node's number
  // for it, from the system's headers at Node's build); else the pid read is not to be trusted.
  if (pid !== 0 && int(0) !== constants.signals.SIGCHLD) return undefined;
  return pid;
}

const P_PID = 1;

/**
 * Whether a child has ended, asked without reaping it (waitid, WNOWAIT): while it is a zombie its
 * /proc entry can still be read. True also when it is no child to wait for (reaped by another).
 */
export function hasEnded(pid: number): boolean {
  const { koffi, waitid } = load();
  siginfo.fill(0);
  if (waitid(P_PID, pid, siginfo, WEXITED | WNOHANG | WNOWAIT) !== 0) return true;
  const offset = siginfoPidOffset(koffi);
  return (LITTLE_ENDIAN ? siginfo.readInt32LE(offset) : siginfo.readInt32BE(offset)) === pid;
}

/** Makes orphaned descendants this process's children, as if it were PID 1 for them. */
export function becomeSubreaper(): boolean {
  return load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/** Undoes becomeSubreaper(): orphans go to the next subreaper above, or init, again. */
export function stopBeingSubreaper(): boolean {
  return load().prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) === 0;
}

/**
 * Whether this process is a subreaper already (the flag survives exec: a parent may have set it).
 */
export function isSubreaper(): boolean {
  const flag = [0];
  return load().prctlGet(PR_GET_CHILD_SUBREAPER, flag, 0, 0, 0) === 0 && flag[0] !== 0;
}

/**
 * Takes flock(2)'s exclusive lock on an open file without waiting: false if another open file
 * holds it. The kernel drops the lock when its holder dies, even by SIGKILL: it never goes stale.
 */
export function tryLockExclusive(fd: number): boolean {
  const { koffi, flock } = load();
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const errno = koffi.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR)
      throw Object.assign(new Error(`flock failed (errno ${errno})`), { code: 'EFLOCK', errno });
  }
}

/** A pipe whose ends close on exec; the spawn's file actions give the child its end. */
export function pipe(): [read: number, write: number] {
  const fds = [0, 0];
  const { koffi, pipe2 } = load();
  if (pipe2(fds, O_CLOEXEC) !== 0)
    throw Object.assign(new Error(`pipe2 failed (errno ${koffi.errno()})`), { code: 'EPIPE2' });
  return [fds[0] ?? -1, fds[1] ?? -1];
}

export function closeFd(fd: number): void {
  load().close(fd);
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/**
 * Clears O_NONBLOCK on an fd the child inherits. The flag belongs to the open file, which the
 * child shares: a program reading its terminal or pipe expects blocking reads (libuv does the same
 * in its children).
 */
export function makeBlocking(fd: number): void {
  const { fcntl } = load();
  const flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0 && (flags & O_NONBLOCK) !== 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

const O_ASYNC = 0o20000;
const F_SETOWN_EX = 15;
const F_OWNER_TID = 0;
/**
 * struct f_owner_ex { int type; pid_t pid; }: this thread (Node's main thread's tid is the pid).
 */
let owner: Buffer | undefined;

/**
 * Makes keepalive's end of a pipe non-blocking and, while `ring` is on, has the kernel send SIGIO
 * to the main thread on every write to the pipe and on the close of its last writer (O_ASYNC).
 * The main thread, not the process: another thread (a poll of koffi's on the threadpool) would
 * have its call interrupted.
 */
export function ringOnInput(fd: number, ring: boolean): boolean {
  const { fcntl, fcntlOwner } = load();
  // Two C ints in this machine's byte order.
  owner ??= Buffer.from(new Int32Array([F_OWNER_TID, process.pid]).buffer);
  const flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || (ring && fcntlOwner(fd, F_SETOWN_EX, owner) !== 0)) return false;
  const wanted = ring ? flags | O_NONBLOCK | O_ASYNC : (flags | O_NONBLOCK) & ~O_ASYNC;
  return fcntl(fd, F_SETFL, wanted) === 0;
}

/** read(2) into `buffer`: the bytes read, 0 at the end (no writer left), or -errno. */
export function readInto(fd: number, buffer: Buffer): number {
  const { koffi, read } = load();
  const got = read(fd, buffer, buffer.length);
  return got >= 0 ? got : -koffi.errno();
}

/** A NULL-ended array of C strings, as posix_spawn takes argv and envp (see cStrings). */
export type CStrings = ReadonlyArray<Buffer | string | null>;

/** Strings and byte strings as a C array: Buffers NUL-terminated, the NULL at the end added. */
export function cStrings(values: ReadonlyArray<Buffer | string>): Array<Buffer | string | null> {
  return [...values.map(cString), null];
}

export interface NativeSpawn {
  /**
   * An absolute or relative path: posix_spawn does not search PATH (spawn.ts does, in the child's
   * PATH).
   */
  path: Buffer | string;
  argv: CStrings;
  envp: CStrings;
  cwd?: string | undefined;
  /**
   * Child fd => parent fd to give it (dup2), or 'null' for /dev/null. Unlisted fds 0-2 are
   * inherited.
   */
  fds: ReadonlyMap<number, number | 'null'>;
  /** A new session (and so a new process group led by the child). */
  newSession: boolean;
}

let spawnBuffers: { actions: Buffer; attr: Buffer; set: Buffer } | undefined;

/**
 * posix_spawn(3) with every signal at its default action and none blocked, as a fresh exec
 * expects (Node ignores SIGPIPE, which a child would otherwise inherit). Returns the pid, or the
 * errno of a failed exec (libc reports it synchronously: ENOENT, EACCES, ENOEXEC ...).
 */
export function nativeSpawn(request: NativeSpawn): { pid: number } | { errno: number } {
  const c = load();
  // One set of structures for every spawn (each is initialised and destroyed within the call).
  spawnBuffers ??= {
    actions: Buffer.alloc(FILE_ACTIONS_BYTES),
    attr: Buffer.alloc(SPAWN_ATTR_BYTES),
    set: Buffer.alloc(SIGSET_BYTES),
  };
  const { actions, attr, set } = spawnBuffers;
  c.actionsInit(actions);
  c.attrInit(attr);
  try {
    for (const [fd, from] of request.fds) {
      const failed =
        from === 'null'
          ? c.addOpen(actions, fd, '/dev/null', O_RDWR, 0)
          : c.addDup2(actions, from, fd);
      if (failed !== 0) return { errno: failed };
    }
    if (request.cwd !== undefined) {
      const failed = c.addChdir?.(actions, request.cwd) ?? ENOSYS;
      if (failed !== 0) return { errno: failed };
    }
    c.sigEmptySet(set);
    c.setSigMask(attr, set);
    c.sigFillSet(set);
    c.setSigDefault(attr, set);
    c.setFlags(
      attr,
      POSIX_SPAWN_SETSIGDEF |
        POSIX_SPAWN_SETSIGMASK |
        (request.newSession ? POSIX_SPAWN_SETSID : 0),
    );
    const pid = [0];
    const errno = c.posixSpawn(
      pid,
      cString(request.path),
      actions,
      attr,
      request.argv,
      request.envp,
    );
    return errno === 0 ? { pid: pid[0] ?? -1 } : { errno };
  } finally {
    c.actionsDestroy(actions);
    c.attrDestroy(attr);
  }
}

/** Buffers are passed as they are, NUL added: the bytes reach the child unchanged. */
export function cString(value: Buffer | string): Buffer | string {
  if (typeof value === 'string') return value;
  return value.at(-1) === 0 ? value : Buffer.concat([value, Buffer.from([0])]);
}
