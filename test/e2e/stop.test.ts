// Stopping end to end: a child that traps SIGTERM, one that ignores it, SIGINT; pipelines and
// background jobs stopped as a whole; a second Ctrl+C; a closed stderr.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import { CLI, fixture, Keepalive } from '../helpers/keepalive.js';
import { childrenOf, eventually, processState, stoppedTree } from '../helpers/proc.js';

test('SIGTERM to keepalive stops a child that traps it: status 0, no restart', async (t) => {
  const keepalive = new Keepalive(['--', fixture('trap-term.sh')]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 0);
  t.true(keepalive.stdout.all.includes('got TERM'));
  t.regex(
    keepalive.stderr.text,
    /SIGTERM received: stopping trap-term\[\d+\] \(SIGKILL after 8s\)/,
  );
  t.regex(keepalive.stderr.all.at(-1) ?? '', /trap-term\[\d+\] exited with code 0; stopped$/);
  t.false(keepalive.stderr.text.includes('restart 1'));
});

test('a child that ignores SIGTERM is SIGKILLed after --kill-timeout: status 137', async (t) => {
  const keepalive = new Keepalive(['--kill-timeout', '300ms', '--', fixture('ignore-stop.sh')]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 137);
  t.regex(
    keepalive.stderr.text,
    /ignore-stop\[\d+\] still running \d+ms after SIGTERM: sending SIGKILL/,
  );
  t.regex(
    keepalive.stderr.all.at(-1) ?? '',
    /killed: SIGKILL \(Forced termination\), status 137; stopped$/,
  );
});

test('SIGINT to keepalive reaches the child as SIGINT: status 130', async (t) => {
  const keepalive = new Keepalive(['--', 'sleep', '1000']);
  await keepalive.childPid();
  keepalive.signal('SIGINT');
  const ended = await keepalive.ended;
  t.is(ended.status, 130);
  t.regex(
    keepalive.stderr.text,
    /killed: SIGINT \(User interruption with CTRL-C\), status 130; stopped/,
  );
});

const groups: Array<[string, string]> = [
  ['a pipeline under sh -c', 'sleep 1000 | cat | cat'],
  ['a child with background grandchildren', 'sleep 1000 & sleep 1000 & wait'],
  ['a pipeline of busy processes', 'yes | tail -c 1'],
];

for (const [what, script] of groups) {
  test(`stop takes down ${what} as a whole`, async (t) => {
    const keepalive = new Keepalive(['--', 'sh', '-c', script]);
    const pgid = await keepalive.childPid();
    await eventually('the group to have its members', () => descendantCount(pgid) >= 2);
    keepalive.signal('SIGTERM');
    const ended = await keepalive.ended;
    t.is(ended.status, 143);
    t.throws(() => process.kill(-pgid, 0), { code: 'ESRCH' });
  });
}

test('a second Ctrl+C during a stop kills at once', async (t) => {
  const keepalive = new Keepalive(['--kill-timeout', '60s', '--', fixture('ignore-stop.sh')]);
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGINT');
  await keepalive.stderr.next(/SIGINT received: stopping/);
  keepalive.signal('SIGINT');
  const ended = await keepalive.ended;
  t.is(ended.status, 137);
  t.regex(keepalive.stderr.text, /still running \d+m?s after SIGINT: sending SIGKILL/);
});

/** The group leader's descendants: enough to know the pipeline is up. */

function descendantCount(pid: number): number {
  const children = childrenOf(pid);
  return children.reduce((count, child) => count + descendantCount(child), children.length);
}

test('a second Ctrl+C also kills what the child left in its group', async (t) => {
  // The leader dies of SIGINT; the background sleep ignores SIGINT and SIGTERM and stays in the
  // group.
  const script = '(trap "" INT TERM; exec sleep 1000) & echo ready; wait';
  const keepalive = new Keepalive(['--kill-timeout', '60s', '--', 'sh', '-c', script]);
  const pgid = await keepalive.childPid();
  await keepalive.stdout.next(/^ready$/);
  keepalive.signal('SIGINT');
  await keepalive.stderr.next(/killed: SIGINT .*; stopped$/);
  keepalive.signal('SIGINT');
  const ended = await keepalive.ended;
  t.is(ended.status, 130);
  t.throws(() => process.kill(-pgid, 0), { code: 'ESRCH' });
});

test('a closed stderr does not stop keepalive from stopping its child', async (t) => {
  const keepalive = spawn(
    process.execPath,
    [CLI, '--kill-timeout', '300ms', '--', fixture('ignore-stop.sh')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = new Promise((resolve) =>
    keepalive.stdout.on('data', (chunk: Buffer) => chunk.includes('ready') && resolve(true)),
  );
  await ready;
  const [child] = childrenOf(keepalive.pid as number);
  t.truthy(child);
  keepalive.stderr.destroy(); // the reader goes away: keepalive's next line meets EPIPE
  keepalive.kill('SIGTERM');
  const [status] = (await once(keepalive, 'exit')) as [number];
  t.is(status, 137);
  await eventually(
    'the child to be gone',
    () => processState(child as number) === undefined || processState(child as number) === 'Z',
  );
});

test('a stop while keepalive and the child are suspended (Ctrl+Z, then kill %1): the child resumes and ends cleanly', async (t) => {
  const keepalive = new Keepalive([
    '--kill-timeout',
    '20s',
    '--',
    'sh',
    '-c',
    'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done',
  ]);
  const pid = await keepalive.childPid();
  await keepalive.stdout.next(/^ready$/);
  t.teardown(() => {
    for (const target of [-pid, keepalive.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  keepalive.signal('SIGTSTP');
  // A shell stopped inside vfork() waits in D for its stopped child: stoppedTree counts that.
  await eventually(
    'keepalive and the child to be stopped',
    () => processState(keepalive.pid) === 'T' && stoppedTree(pid),
  );
  // What bash's `kill %1` and systemd send: the stop signal, then SIGCONT.
  keepalive.signal('SIGTERM');
  keepalive.signal('SIGCONT');
  const ended = await keepalive.ended;
  t.is(ended.status, 0, keepalive.stderr.text);
  t.false(keepalive.stderr.text.includes('sending SIGKILL'));
});
