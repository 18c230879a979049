// MAINPID=N: which claims keepalive takes, and why it refuses the others.
import test from 'ava';
import { judgeMainPid, refusalWords, type MainPidFacts } from '../../src/core/main-pid.js';

const good: MainPidFacts = {
  pid: 4321,
  supervisorPid: 100,
  reaper: true,
  alive: true,
  inTree: true,
};

test('a live process of the run, under a keepalive that reaps its orphans, is taken', (t) => {
  t.is(judgeMainPid(good), undefined);
});

test('keepalive itself, pid 1, a keepalive that is no reaper, a dead pid, a stranger: refused, in that order', (t) => {
  t.is(judgeMainPid({ ...good, pid: 100 }), 'keepalive');
  t.is(judgeMainPid({ ...good, pid: 1 }), 'init');
  t.is(judgeMainPid({ ...good, reaper: false }), 'not-reaper');
  t.is(judgeMainPid({ ...good, alive: false, inTree: false }), 'no-process');
  t.is(judgeMainPid({ ...good, inTree: false }), 'outside-tree');
  // Even keepalive's own pid, were it in the facts as alive and in the tree, is refused first.
  t.is(judgeMainPid({ ...good, pid: 100, reaper: false }), 'keepalive');
  t.is(refusalWords('outside-tree'), "not a process of the child's tree");
});
