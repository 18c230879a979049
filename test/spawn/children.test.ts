// Asking the kernel about keepalive's children instead of reading /proc: real children, real
// zombies.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { hasChildren } from '../../src/spawn/children.js';
import { endedChild, nativeSpawn, waitpid, WNOHANG } from '../../src/native/native.js';

const state = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
};

test('an ended child is named without being reaped; with none left, there is no child at all', async (t) => {
  const started = nativeSpawn({
    path: '/bin/sh',
    argv: ['sh', '-c', 'exit 7'],
    envp: [],
    fds: new Map(),
    newSession: true,
  });
  if (!('pid' in started)) return t.fail(`spawn failed: errno ${started.errno}`);
  const { pid } = started;
  t.true(hasChildren());
  for (let tries = 0; state(pid) !== 'Z' && tries < 2000; tries++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(state(pid), 'Z', 'the child ended and waits to be reaped');
  t.is(endedChild(), pid);
  t.is(state(pid), 'Z', 'asking did not reap it');
  t.true(hasChildren(), 'a zombie is still a child');
  const reaped = waitpid(pid, WNOHANG);
  t.is(reaped.pid, pid);
  t.is(reaped.status >> 8, 7, 'its status was kept for the real wait');
  t.is(endedChild(), -1);
  t.false(hasChildren());
});
