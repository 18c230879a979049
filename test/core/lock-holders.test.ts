// Who holds a flock, read from /proc/locks text: no file, no process.
import test from 'ava';
import fc from 'fast-check';
import { flockHolders } from '../../src/core/lock-holders.js';

const LOCKS = [
  '1: POSIX  ADVISORY  WRITE 700 fe:00:5317489 0 EOF',
  '2: FLOCK  ADVISORY  WRITE 4321 fe:00:5317489 0 EOF',
  '2: -> FLOCK  ADVISORY  WRITE 4400 fe:00:5317489 0 EOF',
  '3: FLOCK  ADVISORY  READ  4500 fe:00:5317489 0 EOF',
  '4: OFDLCK ADVISORY  WRITE -1 fe:00:5317489 0 EOF',
  '5: FLOCK  ADVISORY  WRITE 4600 00:1b:147 0 EOF',
  '6: FLOCK  ADVISORY  WRITE 4700 fe:00:53174890 0 EOF',
  '7: LEASE  ACTIVE    READ  4800 fe:00:5317489 0 EOF',
  '',
].join('\n');

test('an exclusive flock on the inode: not a waiter, POSIX, shared, another inode', (t) => {
  t.deepEqual(flockHolders(LOCKS, '5317489'), [4321]);
  t.deepEqual(flockHolders(LOCKS, '147'), [4600], 'any device: stat may name another one');
  t.deepEqual(flockHolders(LOCKS, '999'), []);
  t.deepEqual(flockHolders('', '5317489'), []);
  const garbage = 'garbage\n1: FLOCK\n2: FLOCK ADVISORY WRITE x fe:00:1 0 EOF\n';
  t.deepEqual(flockHolders(garbage, '1'), []);
});

test('every exclusive flock line on the inode is found, among any other lines', (t) => {
  const line = fc.record({
    waiting: fc.boolean(),
    type: fc.constantFrom('FLOCK', 'POSIX', 'OFDLCK', 'LEASE'),
    access: fc.constantFrom('WRITE', 'READ', 'UNLCK'),
    pid: fc.integer({ min: 1, max: 4_194_304 }),
    inode: fc.constantFrom('12', '120', '2', '5317489'),
  });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
      const text = lines.map((lock, index) => {
        const waiting = lock.waiting ? '-> ' : '';
        const { type, access, pid, inode } = lock;
        return `${index + 1}: ${waiting}${type}  ADVISORY  ${access} ${pid} fe:00:${inode} 0 EOF`;
      });
      const holds = (lock: (typeof lines)[number]): boolean =>
        !lock.waiting && lock.type === 'FLOCK' && lock.access === 'WRITE' && lock.inode === '12';
      const held = lines.filter(holds).map((lock) => lock.pid);
      t.deepEqual(flockHolders(`${text.join('\n')}\n`, '12'), held);
    }),
  );
});
