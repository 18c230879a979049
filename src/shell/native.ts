// The libc calls Node does not offer, through koffi (prebuilt binaries, no compiler needed):
// waitpid and prctl for the reaper, flock for the single instance. koffi is loaded on first use,
// so a run that needs neither pays nothing for it.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';
import { libcToLoad } from './libc.js';

const PR_SET_CHILD_SUBREAPER = 36;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;
export const WNOHANG = 1;

interface Libc {
  koffi: typeof Koffi;
  waitpid: (pid: number, status: number[], options: number) => number;
  prctl: (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
  flock: (fd: number, operation: number) => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  const library = koffi.load(libcToLoad());
  libc = {
    koffi,
    waitpid: library.func('int waitpid(int pid, _Out_ int *status, int options)') as Libc['waitpid'],
    prctl: library.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as Libc['prctl'],
    flock: library.func('int flock(int fd, int operation)') as Libc['flock'],
  };
  return libc;
}

/** waitpid(pid, &status, options): the pid reaped (0 if still running, -1 on error) and its status. */
export function waitpid(pid: number, options: number): { pid: number; status: number } {
  const status = [0];
  const reaped = load().waitpid(pid, status, options);
  return { pid: reaped, status: status[0] ?? 0 };
}

/** Makes orphaned descendants this process's children, as if it were PID 1 for them. */
export function becomeSubreaper(): boolean {
  return load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
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
    if (errno !== EINTR) throw Object.assign(new Error(`flock failed (errno ${errno})`), { code: 'EFLOCK', errno });
  }
}
