// The run object with real children: its phases, and what its sweep reports.
import test from 'ava';
import type { SupervisorEvents } from '../src/core/events.js';
import { resolveOptions } from '../src/options.js';
import { startRun, type Run } from '../src/run.js';
import { uniqueMarker, running } from './helpers/proc.js';

async function start(command: string, killTimeout = 300): Promise<{ run: Run; events: string[] }> {
  const events: string[] = [];
  const options = resolveOptions({ command: 'sh', args: ['-c', command], killTimeout });
  const started = await startRun({
    options,
    env: process.env,
    restarts: 0,
    now: () => performance.now(),
    oomKills: () => undefined,
    emit: ((name: keyof SupervisorEvents) => {
      events.push(name);
      return true;
    }) as never,
    ownsOrphans: false,
  });
  if (!started.started) throw new Error('not started');
  return { run: started.run, events };
}

test('running, then stopping on stop(), then ended once the tree is empty', async (t) => {
  const { run } = await start('trap "exit 0" TERM; while :; do sleep 0.05; done');
  t.is(run.phase, 'running');
  run.stop('SIGTERM');
  t.is(run.phase, 'stopping');
  const exit = await run.exited;
  t.deepEqual(exit.facts, { started: true, code: 0, signal: null });
  const swept = await run.swept();
  t.is(run.phase, 'ended');
  t.deepEqual(swept, { left: [], killed: [] });
});

test('a leftover that ignores the stop signal is SIGKILLed at the deadline and reported', async (t) => {
  const marker = uniqueMarker();
  const { run } = await start(`(trap "" TERM; exec sleep ${marker}) & sleep 0.2; exit 0`);
  const exit = await run.exited;
  t.like(exit.facts, { code: 0 });
  t.is(run.phase, 'sweeping');
  const swept = await run.swept();
  t.is(swept.left.length, 1);
  t.deepEqual(
    swept.killed.map((member) => member.pid),
    swept.left.map((member) => member.pid),
  );
  t.is(run.phase, 'ended');
  t.false(running().some((process_) => process_.argv.includes(marker)));
});

test('escalation: a leader that ignores the stop signal gets SIGKILL after the kill timeout', async (t) => {
  const { run, events } = await start('trap "" TERM; while :; do sleep 0.05; done');
  run.stop('SIGTERM');
  const exit = await run.exited;
  t.like(exit.facts, { signal: 'SIGKILL' });
  t.true(events.includes('escalate'));
  await run.swept();
});

test('a second stop changes nothing; killNow() ends it at once', async (t) => {
  const { run } = await start('trap "" TERM INT; while :; do sleep 0.05; done', 60_000);
  run.stop('SIGTERM');
  run.stop('SIGINT');
  t.is(run.signal, 'SIGTERM');
  run.killNow();
  t.like((await run.exited).facts, { signal: 'SIGKILL' });
  await run.swept();
  t.is(run.phase, 'ended');
});
