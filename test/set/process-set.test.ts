// The set's engine through the API, with real processes: start order by each condition, failed
// starts, restarts of one, stop order, the essential process and the exit status rules.
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  superviseSet,
  type NotStartedEvent,
  type ProcessOptions,
  type ProcessSet,
} from '../../src/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-set-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A process by `sh -c`, quick to stop (no SIGKILL wait unless asked). */
const sh = (name: string, script: string, more: Partial<ProcessOptions> = {}): ProcessOptions => ({
  name,
  command: 'sh',
  args: ['-c', script],
  killTimeout: 5_000,
  delay: 100,
  ...more,
});

/** Starts a set whose every process ends with the test, however it ends. */
function start(t: ExecutionContext, processes: ProcessOptions[]): ProcessSet {
  const set = superviseSet({ processes });
  const pids = new Set<number>();
  set.on('spawn', (event) => pids.add(event.pid));
  t.teardown(async () => {
    set.stop();
    const ended = await Promise.race([
      set.done.then(
        () => true,
        () => true,
      ),
      new Promise((resolve) => setTimeout(() => resolve(false), 20_000)),
    ]);
    if (!ended) set.stop('SIGINT', true);
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return set;
}

/** Resolves with the pid when `name` spawns. */
async function spawned(set: ProcessSet, name: string): Promise<number> {
  for (;;) {
    const [event] = await once(set, 'spawn');
    if (event.name === name) return event.pid as number;
  }
}

/** The order of spawns, by name, until `count` have started. */
async function spawnOrder(set: ProcessSet, count: number): Promise<string[]> {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    const listener = (event: { name: string }): void => {
      order.push(event.name);
      if (order.length === count) {
        set.off('spawn', listener);
        resolve();
      }
    };
    set.on('spawn', listener);
  });
  return order;
}

test('started: a dependent starts once its dependency has been spawned', async (t) => {
  const set = start(t, [
    sh('web', 'exec sleep 60', { dependsOn: { db: { condition: 'started', restart: false } } }),
    sh('db', 'exec sleep 60'),
  ]);
  t.deepEqual(await spawnOrder(set, 2), ['db', 'web']);
});

test('ready: with --wait-ready a dependent waits for READY=1, and not before', async (t) => {
  const dir = tempDir(t);
  const flag = join(dir, 'go');
  const set = start(t, [
    sh('web', 'exec sleep 60', { dependsOn: { db: { condition: 'ready', restart: false } } }),
    sh(
      'db',
      `while [ ! -e ${flag} ]; do sleep 0.05; done; echo READY=1 >&"$KEEPALIVE_NOTIFY_FD"; ` +
        'exec sleep 60',
      { waitReady: true },
    ),
  ]);
  await spawned(set, 'db');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.is(set.processes().find((view) => view.name === 'web')?.state, 'waiting');
  t.is(set.processes().find((view) => view.name === 'db')?.state, 'starting');
  const webStarts = spawned(set, 'web');
  const ready = once(set, 'ready');
  writeFileSync(flag, '');
  await ready;
  await webStarts;
  t.is(set.processes().find((view) => view.name === 'db')?.state, 'running');
});

test('healthy: a dependent waits until the health check passed once', async (t) => {
  const dir = tempDir(t);
  const flag = join(dir, 'healthy');
  const set = start(t, [
    sh('web', 'exec sleep 60', { dependsOn: { db: { condition: 'healthy', restart: false } } }),
    sh('db', `sleep 0.5; touch ${flag}; exec sleep 60`, {
      healthCmd: `test -e ${flag}`,
      healthInterval: 200,
      healthStartPeriod: 60_000,
    }),
  ]);
  await spawned(set, 'db');
  await spawned(set, 'web');
  t.true(existsSync(flag));
});

test('completed: a dependent starts after its dependency exited with a success code', async (t) => {
  const dir = tempDir(t);
  const done = join(dir, 'migrated');
  const set = start(t, [
    sh('worker', `test -e ${done} && exec sleep 60; exit 9`, {
      dependsOn: { migrate: { condition: 'completed', restart: false } },
    }),
    sh('migrate', `sleep 0.3; touch ${done}`, { restart: 'never' }),
  ]);
  t.deepEqual(await spawnOrder(set, 2), ['migrate', 'worker']);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(set.processes().find((view) => view.name === 'worker')?.restarts, 0);
});

test('a ready timeout fails the dependent with one line naming both; status 1', async (t) => {
  const set = start(t, [
    sh('worker', 'exec sleep 60', {
      dependsOn: { migrate: { condition: 'completed', restart: false } },
      readyTimeout: 1_000,
      essential: true,
    }),
    sh('migrate', 'exec sleep 60', { restart: 'never' }),
  ]);
  const [event] = (await once(set, 'not-started')) as [NotStartedEvent];
  t.like(event, { name: 'worker', dependency: 'migrate', reason: 'timeout', status: 1 });
  const { notStartedWords } = await import('../../src/core/set-plan.js');
  t.is(notStartedWords(event), 'worker: not started: migrate has not completed after 1s');
  // worker is essential: its failed start ends the set with its status.
  t.is((await set.done).status, 1);
});

test('a dependency that ends for good without its condition fails its dependents at once', async (t) => {
  const set = start(t, [
    sh('worker', 'exec sleep 60', {
      dependsOn: { migrate: { condition: 'completed', restart: false } },
    }),
    sh('migrate', 'exit 3', { restart: 'never' }),
  ]);
  const startedAt = Date.now();
  const [event] = (await once(set, 'not-started')) as [NotStartedEvent];
  t.like(event, { name: 'worker', dependency: 'migrate', reason: 'ended' });
  t.true(Date.now() - startedAt < 30_000);
  // No essential process: the first failure's status (migrate's 3) once every one has ended.
  t.is((await set.done).status, 3);
  t.is(set.processes().find((view) => view.name === 'worker')?.state, 'failed');
});

test('restart of one process leaves the others running, with the same pid', async (t) => {
  const set = start(t, [
    sh('web', 'exec sleep 60', { dependsOn: { db: { condition: 'started', restart: false } } }),
    sh('db', 'exec sleep 60'),
    sh('cache', 'exec sleep 60'),
  ]);
  await spawnOrder(set, 3);
  const before = new Map(set.processes().map((view) => [view.name, view.pid]));
  const again = spawned(set, 'db');
  t.true(set.restart('db'));
  const pid = await again;
  t.not(pid, before.get('db'));
  const after = new Map(set.processes().map((view) => [view.name, view.pid]));
  t.is(after.get('web'), before.get('web'));
  t.is(after.get('cache'), before.get('cache'));
  t.true(alive(before.get('web') as number));
  t.false(set.restart('nobody'));
});

test('restart: true restarts the dependents, stopped first, started again after', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'log');
  // Ready once its line is written: the lines' order is the start order.
  const trap = (name: string): string =>
    `trap 'echo ${name}-stop >> ${log}; exit 0' TERM; echo ${name}-start >> ${log}; ` +
    'echo READY=1 >&"$KEEPALIVE_NOTIFY_FD"; while :; do sleep 0.05; done';
  const set = start(t, [
    sh('web', trap('web'), {
      dependsOn: { db: { condition: 'ready', restart: true } },
      waitReady: true,
    }),
    sh('db', trap('db'), { waitReady: true }),
    sh('other', 'exec sleep 60', { dependsOn: { db: { condition: 'started', restart: false } } }),
  ]);
  await spawnOrder(set, 3);
  const otherPid = set.processes().find((view) => view.name === 'other')?.pid;
  const webAgain = spawned(set, 'web');
  t.true(set.restart('db'));
  await webAgain;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  t.deepEqual(lines.slice(2), ['web-stop', 'db-stop', 'db-start', 'web-start']);
  t.is(set.processes().find((view) => view.name === 'other')?.pid, otherPid);
});

test('stop: dependents first, each once what depends on it has ended', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'log');
  const slow = (name: string, seconds: number): string =>
    `trap 'sleep ${seconds}; echo ${name} >> ${log}; exit 0' TERM; while :; do sleep 0.05; done`;
  const set = start(t, [
    sh('db', slow('db', 0)),
    sh('web', slow('web', 0.5), { dependsOn: { db: { condition: 'started', restart: false } } }),
    sh('worker', slow('worker', 0.5), {
      dependsOn: { web: { condition: 'started', restart: false } },
    }),
    sh('lone', slow('lone', 0)),
  ]);
  await spawnOrder(set, 4);
  set.stop();
  const result = await set.done;
  t.is(result.status, 0);
  // lone has nothing to wait for: it ends first, beside worker's slow stop.
  t.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['lone', 'worker', 'web', 'db']);
});

test('an essential process that ends for good stops the rest; keepalive exits with its status', async (t) => {
  const set = start(t, [
    sh('db', 'exec sleep 60'),
    sh('web', 'sleep 0.3; exit 7', {
      restart: 'never',
      essential: true,
      dependsOn: { db: { condition: 'started', restart: false } },
    }),
  ]);
  const [ending] = await once(set, 'essential-end');
  t.like(ending, { name: 'web', status: 7 });
  const result = await set.done;
  t.is(result.status, 7);
  t.true(set.processes().every((view) => view.state === 'ended'));
});

test('without an essential process: the first failure is the status, 0 when none failed', async (t) => {
  const failing = start(t, [
    sh('a', 'sleep 0.2; exit 0', { restart: 'never' }),
    sh('b', 'sleep 0.4; exit 4', { restart: 'never' }),
    sh('c', 'sleep 0.8; exit 5', { restart: 'on-failure', maxRestarts: 0 }),
  ]);
  t.is((await failing.done).status, 4);
  const clean = start(t, [
    sh('a', 'exit 0', { restart: 'never' }),
    sh('b', 'sleep 0.2', { restart: 'on-failure' }),
  ]);
  t.is((await clean.done).status, 0);
});

test('forward reaches every running process', async (t) => {
  const dir = tempDir(t);
  const script = (name: string): string =>
    `trap 'touch ${join(dir, name)}' USR1; while :; do sleep 0.05; done`;
  const set = start(t, [sh('one', script('one')), sh('two', script('two'))]);
  await spawnOrder(set, 2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  set.forward('SIGUSR1');
  for (let tries = 0; tries < 100; tries++) {
    if (existsSync(join(dir, 'one')) && existsSync(join(dir, 'two'))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.true(existsSync(join(dir, 'one')));
  t.true(existsSync(join(dir, 'two')));
});
