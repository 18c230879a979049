// The stamped pipe for real: a FIFO on /dev/shm whose time moves with each write, unlinked at once,
// and a plant at its name left alone.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stampedPipe, writtenAgoMs } from '../../src/shell/stamped-pipe.js';

const mine = (): string[] => readdirSync('/dev/shm').filter((name) => name.startsWith(`keepalive-${process.pid}-`));

test.serial('a stamped pipe keeps its last write\'s time, and leaves no name behind', async (t) => {
  const ends = stampedPipe();
  if (ends === undefined) return t.fail('no FIFO could be made on /dev/shm');
  const [read, write] = ends;
  t.deepEqual(mine(), [], 'unlinked as soon as both ends are open');
  t.regex(readlinkSync(`/proc/self/fd/${read}`), /^\/dev\/shm\/keepalive-\d+-\d+\.fifo \(deleted\)$/);
  t.true(lstatSync(`/proc/self/fd/${read}`).isSymbolicLink());
  writeSync(write, '\n');
  const fresh = writtenAgoMs(read) as number;
  t.true(fresh >= -1 && fresh < 100, `${fresh} ms after the write`);
  await sleep(300);
  const later = writtenAgoMs(read) as number;
  t.true(later >= 280 && later < 2000, `${later} ms, 300 ms after the write`);
  writeSync(write, '\n');
  t.true((writtenAgoMs(read) as number) < later, 'the next write moves it');
  closeSync(read);
  closeSync(write);
});

test.serial('a plant at the name (a FIFO, a symlink, a directory) is left alone: no stamped pipe, a plain one instead', (t) => {
  // Every name this process would try next, taken: stampedPipe gives up after a few.
  const planted: string[] = [];
  for (let n = 0; n < 64; n++) {
    const path = `/dev/shm/keepalive-${process.pid}-${n}.fifo`;
    if (n % 3 === 0) execFileSync('mkfifo', [path]);
    else if (n % 3 === 1) symlinkSync('/etc/passwd', path);
    else mkdirSync(path);
    planted.push(path);
  }
  try {
    t.is(stampedPipe(), undefined);
    for (const [n, path] of planted.entries()) {
      const stat = lstatSync(path);
      t.true(n % 3 === 0 ? stat.isFIFO() : n % 3 === 1 ? stat.isSymbolicLink() : stat.isDirectory(), path);
    }
    t.is(readlinkSync(planted[1] as string), '/etc/passwd');
  } finally {
    for (const path of planted) rmSync(path, { recursive: true, force: true });
  }
  t.deepEqual(mine(), []);
});

test.serial('a FIFO left by a SIGKILLed keepalive is removed at the next one\'s first pipe; another user\'s, a live one\'s and a symlink are not', async (t) => {
  // The first stamped pipe of this process sweeps: run the sweep in a fresh process.
  const gone = spawnSync('true').pid as number;
  const leftover = `/dev/shm/keepalive-${gone}-0.fifo`;
  const foreign = `/dev/shm/keepalive-${gone}-1.fifo`;
  const live = `/dev/shm/keepalive-${process.pid}-900.fifo`;
  const link = `/dev/shm/keepalive-${gone}-2.fifo`;
  execFileSync('mkfifo', [leftover, foreign, live]);
  chownSync(foreign, 65534, 65534);
  symlinkSync('/etc/passwd', link);
  try {
    const probe = `import('${new URL('../../src/shell/stamped-pipe.js', import.meta.url).href}').then((m) => { if (!m.stampedPipe()) process.exit(9); })`;
    t.is(spawnSync(process.execPath, ['-e', probe]).status, 0);
    t.false(existsSync(leftover), 'the dead keepalive\'s FIFO is gone');
    t.true(lstatSync(foreign).isFIFO() && lstatSync(foreign).uid === 65534, 'another user\'s is left');
    t.true(lstatSync(live).isFIFO(), 'a running keepalive\'s is left');
    t.is(readlinkSync(link), '/etc/passwd');
  } finally {
    for (const path of [leftover, foreign, live, link]) rmSync(path, { force: true });
  }
});

test('only a safe /dev/shm is used: a tmpfs, sticky if others may write, owned by root; else a plain pipe', (t) => {
  // Each case in a mount namespace of its own, with its own /dev/shm mounted over the real one.
  const probe = `import('${new URL('../../src/shell/stamped-pipe.js', import.meta.url).href}').then((m) => console.log(m.stampedPipe() ? 'fifo' : 'plain'))`;
  const scratch = mkdtempSync('/var/tmp/keepalive-shm-');
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const withShm = (mount: string): string => {
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${mount} && exec "$0" -e "$1"`, process.execPath, probe], { encoding: 'utf8' });
    return result.stdout.trim() || result.stderr;
  };
  t.is(withShm('mount -t tmpfs -o mode=1777 tmpfs /dev/shm'), 'fifo');
  t.is(withShm('mount -t tmpfs -o mode=0700 tmpfs /dev/shm'), 'fifo', 'root\'s own, writable by no one else');
  t.is(withShm('mount -t tmpfs -o mode=0777 tmpfs /dev/shm'), 'plain', 'world-writable without the sticky bit');
  t.is(withShm('mount -t tmpfs -o mode=1777,uid=65534 tmpfs /dev/shm'), 'plain', 'another user\'s directory');
  t.is(withShm(`mount --bind ${scratch} /dev/shm`), 'plain', 'not a tmpfs: each beat would write the disk');
});
