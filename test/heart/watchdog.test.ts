// The watchdog's timer against a real event loop: floods, and a beat waiting at the deadline.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, readSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Hang } from '../../src/core/heartbeat.js';
import { streamPipe } from '../../src/heart/pipe-reader.js';
import { spawnProcess } from '../../src/spawn/spawn.js';
import { watchChild, type WatchdogEvents } from '../../src/heart/watchdog.js';

const now = (): number => performance.now();

function recorder(): { events: WatchdogEvents; seen: string[]; hang: Promise<Hang> } {
  const seen: string[] = [];
  let resolveHang: (hang: Hang) => void = () => {};
  const hang = new Promise<Hang>((resolve) => (resolveHang = resolve));
  const events: WatchdogEvents = {
    ready: () => seen.push('ready'),
    status: () => seen.push('status'),
    stopping: () => seen.push('stopping'),
    reloading: () => seen.push('reloading'),
    reloaded: () => seen.push('reloaded'),
    mainPid: (pid) => seen.push(`main-pid ${pid}`),
    timeout: () => seen.push('timeout'),
    dropped: () => seen.push('dropped'),
    hang: (found) => {
      seen.push('hang');
      resolveHang(found);
    },
  };
  return { events, seen, hang };
}

// Serial: other tests here hold the event loop, which would pass the deadline before the flood.
test.serial(
  'a channel that never stops sending garbage never pushes the deadline away',
  async (t) => {
    const channel = new PassThrough();
    const { events, hang } = recorder();
    const start = now();
    const watchdog = watchChild({
      channel: streamPipe(channel),
      config: { timeoutMs: 100, graceMs: 100, stopTimeoutMs: 1000 },
      now,
      events,
    });
    const garbage = Buffer.from('not a message\n'.repeat(50));
    let flooding = true;
    t.teardown(() => {
      flooding = false;
    });
    const flood = (): void => {
      if (!flooding) return;
      channel.write(garbage);
      setImmediate(flood);
    };
    flood();
    let chunks = 0;
    channel.on('data', () => chunks++);
    const found = await hang;
    const declaredAfter = now() - start;
    flooding = false;
    await watchdog.close();
    t.is(found.reason, 'no-heartbeat');
    t.true(
      declaredAfter < 2000,
      `hung declared ${Math.round(declaredAfter)}ms after the start, for a 100ms deadline`,
    );
    t.true(chunks > 20, `${chunks} chunks`);
  },
);

test('a beat waiting in the pipe when the deadline passes is read before the verdict', async (t) => {
  // The child sends READY=1 at once, then says so on stdout; it never beats again.
  const child = spawn('sh', ['-c', 'echo READY=1 >&3; echo sent; exec sleep 1000'], {
    stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
  });
  const { events, seen, hang } = recorder();
  const start = now();
  const watchdog = watchChild({
    channel: streamPipe(child.stdio[3] as Readable),
    config: { timeoutMs: 200, graceMs: 200, stopTimeoutMs: 1000 },
    now,
    events,
  });
  // Hold the event loop until READY=1 is surely in the pipe and the deadline has passed: when the
  // loop runs again, the timer comes before the poll that would read it.
  const stdoutFd = (child.stdout as unknown as { _handle: { fd: number } })._handle.fd;
  let said = '';
  const buffer = Buffer.alloc(64);
  while (!said.includes('sent') || now() - start < 400) {
    if (now() - start > 20_000) break;
    try {
      const read = readSync(stdoutFd, buffer);
      said += buffer.toString('utf8', 0, read);
    } catch {
      // EAGAIN: nothing yet.
    }
  }
  t.true(said.includes('sent'), 'the child wrote READY=1 while the loop was held');
  await hang;
  child.kill('SIGKILL');
  await watchdog.close();
  t.deepEqual(
    seen,
    ['ready', 'hang'],
    'READY=1 came before the verdict, which then waited for the next deadline',
  );
});

test("keepalive's own pipe: a beat written while the loop was held is read before the verdict", async (t) => {
  // As above, through the pipe keepalive itself makes (spawn.ts's posix_spawn path).
  const spawned = await spawnProcess({
    command: 'sh',
    args: ['-c', 'echo READY=1 >&3; exec sleep 1000'],
    env: process.env,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    ownGroup: true,
  });
  if (!spawned.started) return t.fail(spawned.message);
  const { events, seen, hang } = recorder();
  const start = now();
  const watchdog = watchChild({
    channel: spawned.pipes.get(3) ?? null,
    config: { timeoutMs: 200, graceMs: 200, stopTimeoutMs: 1000 },
    now,
    events,
  });
  // Held until the child has exec'd sleep (so READY=1 is in the pipe) and the deadline has passed.
  const execd = (): boolean =>
    readFileSync(`/proc/${spawned.pid}/cmdline`, 'latin1').startsWith('sleep');
  while (!execd() || now() - start < 400) if (now() - start > 20_000) break;
  t.true(execd(), 'the child wrote READY=1 while the loop was held');
  await hang;
  process.kill(spawned.pid, 'SIGKILL');
  await spawned.ended;
  await watchdog.close();
  t.deepEqual(seen, ['ready', 'hang']);
});

test('RELOADING=1 then READY=1 is a reload that ends; MAINPID= is passed on; neither moves the deadline', async (t) => {
  const channel = new PassThrough();
  const { events, seen } = recorder();
  const watchdog = watchChild({
    channel: streamPipe(channel),
    config: { timeoutMs: undefined, graceMs: 0, stopTimeoutMs: 1000 },
    now,
    events,
  });
  const chunks = [
    'READY=1\n',
    'RELOADING=1\nMONOTONIC_USEC=123\n',
    'RELOADING=1\n',
    'READY=1\n',
    'READY=1\n',
    'MAINPID=4321\nSTOPPING=1\n',
  ];
  for (const chunk of chunks) {
    channel.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  channel.end();
  await watchdog.close();
  // A second RELOADING=1 within the reload, and a READY=1 with no reload before it, say nothing
  // new.
  t.deepEqual(seen, ['ready', 'reloading', 'reloaded', 'main-pid 4321', 'stopping']);
});

test('beats keep the watchdog quiet; a beat after EXTEND_TIMEOUT_USEC brings the timeout back', async (t) => {
  const channel = new PassThrough();
  const { events, seen, hang } = recorder();
  const watchdog = watchChild({
    channel: streamPipe(channel),
    config: { timeoutMs: 300, graceMs: 300, stopTimeoutMs: 1000 },
    now,
    events,
  });
  t.teardown(() => void watchdog.close());
  // Beats every 50 ms for a second: more than three timeouts, and no verdict.
  for (let beat = 0; beat < 20; beat++) {
    channel.write('\n');
    await sleep(50);
  }
  t.deepEqual(seen, [], 'no hang while the beats came');
  // Far later than the deadline the last beat set: silence past 300 ms is no hang now.
  channel.write('EXTEND_TIMEOUT_USEC=30000000\n');
  await sleep(400);
  t.deepEqual(seen, ['timeout'], 'no hang within the extension');
  // The beat brings the 300 ms timeout back: silence after it is a hang within it, not 30 s later.
  const beatAt = now();
  channel.write('WATCHDOG=1\n');
  const found = await hang;
  const after = now() - beatAt;
  t.is(found.reason, 'no-heartbeat');
  t.true(
    after >= 250 && after < 5000,
    `hung ${Math.round(after)}ms after the last beat, for a 300ms timeout`,
  );
});
