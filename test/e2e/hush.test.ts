// The hushed pipe end to end: while a child only beats, keepalive's end of its notify pipe stops
// ringing (no SIGIO per beat) and the watchdog reads it at its deadline. The verdict stays on time,
// and what is not a beat (a status, a flood, the last words before an exit) is still read.
import test from 'ava';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture, Keepalive } from '../helpers/keepalive.js';

const O_ASYNC = 0o20000;
/** Generous: the machine is small and shared. */
const SLACK_MS = 3000;

/** Whether keepalive's end of the child's FIFO rings (O_ASYNC), from /proc; undefined: no FIFO. */
function fifoRings(pid: number): boolean | undefined {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!/^\/dev\/shm\/keepalive-\d+-\d+\.fifo \(deleted\)$/.test(target)) continue;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags === undefined ? undefined : (Number.parseInt(flags, 8) & O_ASYNC) !== 0;
  }
  return undefined;
}

/** Looks every 50 ms, for 10 s at most. */
async function hushed(keepalive: Keepalive): Promise<boolean> {
  for (let look = 0; look < 200; look++) {
    if (fifoRings(keepalive.pid) === false) return true;
    await sleep(50);
  }
  return false;
}

/** Beats every 100 ms; on SIGUSR1 (keepalive passes it on) runs `then`. */
const beater = (then: string): string[] => ['sh', '-c', `trap '${then}' USR1; while :; do echo >&3; sleep 0.1; done`];

test('a steady beater\'s pipe stops ringing; when it falls silent, the verdict comes on time, not early', async (t) => {
  // The last beat's wall-clock time, from the child, read just before it (so never after it): the
  // verdict must not come before that beat is 1 s old.
  const script = 'i=0; while [ $i -lt 30 ]; do last=$(date +%s%3N); echo >&3; i=$((i+1)); sleep 0.1; done; echo "silent since $last"; exec sleep 1000';
  const keepalive = new Keepalive(['--heartbeat', '1s', '--restart', 'never', '--', 'sh', '-c', script]);
  await keepalive.childPid();
  t.true(await hushed(keepalive), 'the FIFO still rings after the beats began');
  const [, last] = (await keepalive.stdout.next(/^silent since (\d+)$/)) as string[];
  await keepalive.stderr.next(/hung: no heartbeat for [\d.]+m?s; sending SIGKILL$/);
  const silentMs = Date.now() - Number(last);
  t.true(silentMs >= 995, `declared hung ${silentMs} ms after the last beat`);
  t.true(silentMs <= 1000 + SLACK_MS, `declared hung ${silentMs} ms after the last beat`);
  t.is((await keepalive.ended).status, 137);
});

test('while hushed, a STATUS= line is read within a second, not at a 10 s deadline', async (t) => {
  const keepalive = new Keepalive(['-v', '--heartbeat', '10s', '--', ...beater('echo STATUS=talking >&3; echo said')]);
  await keepalive.childPid();
  t.true(await hushed(keepalive));
  keepalive.signal('SIGUSR1');
  await keepalive.stdout.next(/^said$/);
  const saidAt = performance.now();
  await keepalive.stderr.next(/ status: talking$/);
  const late = performance.now() - saidAt;
  t.true(late <= 1000 + SLACK_MS, `read ${Math.round(late)} ms after it was written`);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('a hushed pipe that floods is read as it comes: 16 pipefuls of beats in bursts do not wait a look each', async (t) => {
  // Bursts, not one stream: each fills the pipe and then pauses, as a busy server's beats might.
  const burst = 'head -c 65536 /dev/zero | tr \"\\0\" \"\\n\" >&3; sleep 0.02';
  const flood = `s=$(date +%s%N); for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do ${burst}; done; echo flooded $(( ($(date +%s%N) - s) / 1000000 ))`;
  const keepalive = new Keepalive(['--heartbeat', '10s', '--', ...beater(flood)]);
  await keepalive.childPid();
  t.true(await hushed(keepalive));
  keepalive.signal('SIGUSR1');
  const [, ms] = (await keepalive.stdout.next(/^flooded (\d+)$/)) as string[];
  // A look a second for each pipeful would take 16 s.
  t.true(Number(ms) < 5000, `the flood took ${ms} ms`);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('a hushed child\'s last words before its exit are read: its STATUS= comes before its exit line', async (t) => {
  const keepalive = new Keepalive(['-v', '--heartbeat', '10s', '--restart', 'never', '--', ...beater('echo "STATUS=bye now" >&3; exit 3')]);
  await keepalive.childPid();
  t.true(await hushed(keepalive));
  keepalive.signal('SIGUSR1');
  t.is((await keepalive.ended).status, 3);
  const text = keepalive.stderr.text;
  const status = text.indexOf('status: bye now');
  t.true(status !== -1 && status < text.indexOf('exited with code 3'), text);
});

test('a hushed child\'s MAINPID= just before its exit is taken: the run follows the process it names', async (t) => {
  const handOver = 'setsid sleep 300 & echo "MAINPID=$!" >&3; echo "service $!"; exit 0';
  const keepalive = new Keepalive(['-v', '--heartbeat', '10s', '--restart', 'never', '--', ...beater(handOver)]);
  await keepalive.childPid();
  t.true(await hushed(keepalive));
  keepalive.signal('SIGUSR1');
  const [, service] = (await keepalive.stdout.next(/^service (\d+)$/)) as string[];
  await keepalive.stderr.next(new RegExp(`exited with code 0 after handing over; \\w+\\[${service}\\] \\(MAINPID\\) runs on$`));
  process.kill(Number(service), 'SIGTERM');
  t.is((await keepalive.ended).status, 143, keepalive.stderr.text);
});

test('a child beating at 500 KB/s is never hushed: its writes do not wait for a look', async (t) => {
  const keepalive = new Keepalive(['--heartbeat', '1s', '--', 'node', fixture('fast-beater.mjs')]);
  const [, longest] = (await keepalive.stdout.next(/^longest write (\d+)$/)) as string[];
  // Hushed, the pipe would fill in about 130 ms and the child wait up to the next look.
  t.true(Number(longest) < 400, `its longest write took ${longest} ms`);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});
