// Signals to keepalive, and what reaches the child's process group.
import test from 'ava';
import { CLI, fixture, Keepalive } from '../helpers/keepalive.js';
import { childrenOf, eventually, processState, stoppedTree } from '../helpers/proc.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { supervise, type ExitEvent } from '../../src/index.js';
import { FORWARDED_SIGNALS } from '../../src/shell/signals.js';

test('every forwarded signal reaches the child; SIGCHLD and SIGSTOP are not forwarded', async (t) => {
  const keepalive = new Keepalive(['--', 'node', fixture('record-signals.js')]);
  await keepalive.stdout.next(/^ready$/);
  const childPid = await keepalive.childPid();
  for (const signal of FORWARDED_SIGNALS) {
    const seen = keepalive.stdout.all.length;
    keepalive.signal(signal);
    await keepalive.stdout.next(new RegExp(`^got ${signal}$`), seen);
  }
  // SIGCHLD to keepalive, then a marker: the marker arrives and SIGCHLD never did.
  const beforeChld = keepalive.stdout.all.length;
  keepalive.signal('SIGCHLD');
  keepalive.signal('SIGUSR2');
  await keepalive.stdout.next(/^got SIGUSR2$/, beforeChld);
  // SIGSTOP stops keepalive alone; the child runs on. SIGCONT resumes keepalive and reaches the child.
  keepalive.signal('SIGSTOP');
  await eventually('keepalive to stop', () => processState(keepalive.pid) === 'T');
  t.not(processState(childPid), 'T');
  const beforeCont = keepalive.stdout.all.length;
  keepalive.signal('SIGCONT');
  await keepalive.stdout.next(/^got SIGCONT$/, beforeCont);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;

  t.is(ended.status, 0);
  t.false(keepalive.stdout.all.includes('got SIGCHLD'));
  t.is(keepalive.stdout.all.filter((line) => line === 'got SIGTERM').length, 1);
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

test('--stop-signal is what keepalive uses when it restarts the child itself', async (t) => {
  const supervisor = supervise({ command: 'sleep', args: ['1000'], stopSignal: 'SIGUSR2' });
  await once(supervisor, 'spawn');
  supervisor.restart();
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  supervisor.stop();
  await supervisor.done;
  t.like(exit, { outcome: { kind: 'killed', signal: 'SIGUSR2' }, next: { action: 'restart', planned: true } });
});

/** The group leader's descendants: enough to know the pipeline is up. */
function descendantCount(pid: number): number {
  const children = childrenOf(pid);
  return children.reduce((count, child) => count + descendantCount(child), children.length);
}

test('a second Ctrl+C also kills what the child left in its group', async (t) => {
  // The leader dies of SIGINT; the background sleep ignores SIGINT and SIGTERM and stays in the group.
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
  const keepalive = spawn(process.execPath, [CLI, '--kill-timeout', '300ms', '--', fixture('ignore-stop.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise((resolve) => keepalive.stdout.on('data', (chunk: Buffer) => chunk.includes('ready') && resolve(true)));
  await ready;
  const [child] = childrenOf(keepalive.pid as number);
  t.truthy(child);
  keepalive.stderr.destroy(); // the reader goes away: keepalive's next line meets EPIPE
  keepalive.kill('SIGTERM');
  const [status] = (await once(keepalive, 'exit')) as [number];
  t.is(status, 137);
  await eventually('the child to be gone', () => processState(child as number) === undefined || processState(child as number) === 'Z');
});

test('Ctrl+Z then fg is not a hang: the time stopped is not silence', async (t) => {
  const keepalive = new Keepalive(['--heartbeat', '1s', '--', fixture('beater.sh')]);
  const pid = await keepalive.childPid();
  t.teardown(() => {
    // Should the test fail half-way, leave nothing stopped behind.
    for (const target of [-pid, keepalive.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  await keepalive.stdout.next(/^beat 3$/);
  keepalive.signal('SIGTSTP');
  await eventually('keepalive and the child to be stopped', () => processState(keepalive.pid) === 'T' && stoppedTree(pid));
  await sleep(2500); // stopped for longer than the heartbeat timeout: the scenario itself
  const seen = keepalive.stdout.all.length;
  keepalive.signal('SIGCONT');
  await keepalive.stdout.next(/^beat \d+$/, seen + 5); // five beats after the resume
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  t.false(keepalive.stderr.text.includes('restart 1'), keepalive.stderr.text);
});
