// NotifyAccess: who may speak on the notify socket.
import test from 'ava';
import { mayNotify } from '../../src/core/notify-access.js';

const tree = new Set([100, 101, 102]);
const inTree = (pid: number): boolean => tree.has(pid);

test('all: the child and its tree; main: the child only; none: nobody', (t) => {
  t.true(mayNotify({ access: 'all', main: 100 }, 100, inTree));
  t.true(mayNotify({ access: 'all', main: 100 }, 102, inTree));
  t.false(mayNotify({ access: 'all', main: 100 }, 999, inTree));
  t.true(mayNotify({ access: 'main', main: 100 }, 100, inTree));
  t.false(mayNotify({ access: 'main', main: 100 }, 101, inTree));
  t.false(mayNotify({ access: 'none', main: 100 }, 100, inTree));
});

test("a datagram without credentials is nobody's", (t) => {
  t.false(mayNotify({ access: 'all', main: 100 }, undefined, () => true));
});

test('the tree is looked at only for another sender under all', (t) => {
  let asked = 0;
  const counting = (pid: number): boolean => {
    asked++;
    return inTree(pid);
  };
  mayNotify({ access: 'all', main: 100 }, 100, counting);
  mayNotify({ access: 'main', main: 100 }, 101, counting);
  t.is(asked, 0);
  mayNotify({ access: 'all', main: 100 }, 101, counting);
  t.is(asked, 1);
});
