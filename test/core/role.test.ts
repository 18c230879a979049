import test from 'ava';
import { roleOf } from '../../src/core/role.js';

const base = {
  pid1: false,
  subreaperOption: true,
  alreadySubreaper: false,
  treeKnown: true,
  wholeProcess: true,
};

test('by default keepalive becomes a subreaper and reaps what comes to it', (t) => {
  t.deepEqual(roleOf(base), { becomeSubreaper: true, reapOrphans: true, canSuspend: true });
});

test('a subreaper by inheritance reaps, even with --no-subreaper', (t) => {
  t.deepEqual(roleOf({ ...base, subreaperOption: false, alreadySubreaper: true }), {
    becomeSubreaper: false,
    reapOrphans: true,
    canSuspend: true,
  });
});

test('PID 1 reaps and cannot suspend itself', (t) => {
  t.deepEqual(roleOf({ ...base, pid1: true, subreaperOption: false }), {
    becomeSubreaper: false,
    reapOrphans: true,
    canSuspend: false,
  });
});

test('--no-subreaper outside PID 1: nothing to reap; without /proc, no tree at all', (t) => {
  t.deepEqual(roleOf({ ...base, subreaperOption: false }), {
    becomeSubreaper: false,
    reapOrphans: false,
    canSuspend: true,
  });
  t.deepEqual(roleOf({ ...base, treeKnown: false }), {
    becomeSubreaper: false,
    reapOrphans: false,
    canSuspend: true,
  });
});

test('an embedding program as PID 1 or under an inherited flag: its children are its own, nothing is reaped', (t) => {
  const embedded = { ...base, subreaperOption: false, wholeProcess: false };
  t.false(roleOf({ ...embedded, pid1: true }).reapOrphans);
  t.false(roleOf({ ...embedded, alreadySubreaper: true }).reapOrphans);
  t.true(roleOf({ ...embedded, pid1: true, subreaperOption: true }).reapOrphans);
});
