// The heart through the API: typed events, the last status, the hang as an outcome.
import test from 'ava';
import { once } from 'node:events';
import {
  supervise,
  type ExitEvent,
  type HangEvent,
  type ReadyEvent,
  type StatusEvent,
} from '../../src/index.js';

test("ready and status events; lastStatus is the running child's last STATUS=", async (t) => {
  const script =
    'echo READY=1 >&3; echo STATUS=loading >&3; sleep 0.2; echo "STATUS=serving 3 clients" >&3; exec sleep 1000';
  const supervisor = supervise({ command: 'sh', args: ['-c', script] });
  t.is(supervisor.lastStatus, undefined);
  const [ready] = (await once(supervisor, 'ready')) as [ReadyEvent];
  let status: StatusEvent;
  do [status] = (await once(supervisor, 'status')) as [StatusEvent];
  while (status.text !== 'serving 3 clients');
  t.is(supervisor.lastStatus, 'serving 3 clients');
  supervisor.stop();
  await supervisor.done;
  t.is(supervisor.lastStatus, undefined, 'no status once the child is gone');
  t.is(ready.pid, status.pid);
  t.true(ready.afterMs >= 0);
});

test('a child silent at first: its READY=1 counts from its start, and a WATCHDOG_USEC= it sends later arms the watchdog', async (t) => {
  // Without a watchdog the heart starts at the child's first words; what they say is judged as
  // ever.
  const script = 'sleep 0.3; echo READY=1 >&3; echo WATCHDOG_USEC=200000 >&3; exec sleep 1000';
  const supervisor = supervise(
    { command: 'sh', args: ['-c', script], delay: 0, maxRestarts: 0 },
    { coreDumps: 'disabled' },
  );
  const [ready] = (await once(supervisor, 'ready')) as [ReadyEvent];
  t.true(
    ready.afterMs >= 250,
    `READY=1 after ${ready.afterMs} ms: counted from the first words, not the start`,
  );
  const [hang] = (await once(supervisor, 'hang')) as [HangEvent];
  t.like(hang, { reason: 'no-heartbeat', signal: 'SIGKILL' });
  t.true(hang.silentMs >= 200);
  const result = await supervisor.done;
  t.is(result.outcome.kind, 'hung');
});

test('a child silent at first that speaks on the notify socket: its READY=1 counts from its start, its STATUS= is read', async (t) => {
  const script = 'sleep 0.3; systemd-notify --ready --status=serving; exec sleep 1000';
  const supervisor = supervise({
    command: 'sh',
    args: ['-c', script],
    notifyAccess: 'all',
    restart: 'never',
  });
  // One datagram holds both: the status is told right after the ready event.
  const status = once(supervisor, 'status') as Promise<[StatusEvent]>;
  const [ready] = (await once(supervisor, 'ready')) as [ReadyEvent];
  t.true(
    ready.afterMs >= 250,
    `READY=1 after ${ready.afterMs} ms: counted from the first datagram, not the start`,
  );
  t.is((await status)[0].text, 'serving');
  t.is(supervisor.lastStatus, 'serving');
  supervisor.stop();
  await supervisor.done;
});

test('a hang is an event, then an exit with the outcome "hung", and the policy restarts', async (t) => {
  const supervisor = supervise(
    { command: 'sleep', args: ['1000'], heartbeat: 200, delay: 0, maxRestarts: 1 },
    { coreDumps: 'disabled' },
  );
  const [hang] = (await once(supervisor, 'hang')) as [HangEvent];
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  const result = await supervisor.done;
  t.like(hang, { reason: 'no-heartbeat', signal: 'SIGKILL' });
  t.true(hang.silentMs >= 200);
  t.like(exit.outcome, {
    kind: 'hung',
    signal: 'SIGKILL',
    sent: 'SIGKILL',
    reason: 'no-heartbeat',
  });
  t.is(exit.status, 137);
  t.like(exit.next, { action: 'restart', restart: 1 });
  // The second hang is the second failure: maxRestarts 1 gives up.
  t.is(result.reason, 'give-up');
  t.is(result.outcome.kind, 'hung');
});

test("a stop during a hang's kill ends keepalive, still telling the hang", async (t) => {
  const supervisor = supervise({
    command: 'sh',
    args: ['-c', "trap '' QUIT; while :; do sleep 0.05; done"],
    heartbeat: 200,
    hangSignal: 'SIGQUIT',
    killTimeout: 400,
  });
  await once(supervisor, 'hang');
  supervisor.stop();
  const result = await supervisor.done;
  t.is(result.reason, 'stopped');
  t.like(result.outcome, { kind: 'hung', sent: 'SIGQUIT', signal: 'SIGKILL' });
});

test.serial(
  "once supervise() is done, the host keeps no listener or timer of the notify pipe's",
  async (t) => {
    // Serial: the file's other runs are not yet started, so the counts are this run's alone.
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const listeners = (): number => process.listenerCount('SIGIO');
    const [timersBefore, listenersBefore] = [timers(), listeners()];
    const script = 'echo READY=1 >&3; for i in 1 2 3; do echo >&3; sleep 0.1; done';
    const supervisor = supervise({
      command: 'sh',
      args: ['-c', script],
      heartbeat: 1000,
      restart: 'never',
    });
    await once(supervisor, 'ready');
    const result = await supervisor.done;
    t.is(result.outcome.kind, 'exited');
    await new Promise((resolve) => setImmediate(resolve));
    t.is(listeners(), listenersBefore);
    t.is(timers(), timersBefore);
  },
);
