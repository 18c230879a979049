// flock(2), which Node does not offer: an exclusive lock the kernel drops when its holder dies,
// even by SIGKILL, so a lock never goes stale. Loaded only with --pidfile.
import koffi from 'koffi';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

const libc = koffi.load('libc.so.6');
const flockCall = libc.func('int flock(int fd, int operation)');

/** Takes the exclusive lock on an open file without waiting: false if another open file holds it. */
export function tryLockExclusive(fd: number): boolean {
  for (;;) {
    if ((flockCall(fd, LOCK_EX | LOCK_NB) as number) === 0) return true;
    const errno = koffi.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw Object.assign(new Error(`flock failed (errno ${errno})`), { code: 'EFLOCK', errno });
  }
}
