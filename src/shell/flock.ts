// flock(2), which Node does not offer: an exclusive lock the kernel drops when its holder dies,
// even by SIGKILL, so a lock never goes stale. The library is loaded on first use, so a run
// without --pidfile pays nothing for it.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;

let native: { koffi: typeof Koffi; flock: (fd: number, operation: number) => number } | undefined;

function load(): NonNullable<typeof native> {
  if (native) return native;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  const flock = koffi.load('libc.so.6').func('int flock(int fd, int operation)') as (fd: number, operation: number) => number;
  native = { koffi, flock };
  return native;
}

/** Takes the exclusive lock on an open file without waiting: false if another open file holds it. */
export function tryLockExclusive(fd: number): boolean {
  const { koffi, flock } = load();
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const errno = koffi.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw Object.assign(new Error(`flock failed (errno ${errno})`), { code: 'EFLOCK', errno });
  }
}
