// --pidfile end to end: one instance, stale files, a predecessor killed with SIGKILL, planted
// symlinks, and a cron-like loop with random kills. Real keepalive processes, real files.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { alive, CLI, type Ended, fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { children, eventually, supervisors, uniqueMarker, workspace } from '../helpers/proc.js';

/** Runs a shell command line on a pseudo-terminal (`script`), as a person at a terminal would. */

async function onTerminal(command: string): Promise<{ status: number | null; output: string }> {
  const script = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  script.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  script.stdin.end();
  const [status] = (await once(script, 'close')) as [number | null];
  return { status, output: output.replace(/\r/g, '') };
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

test('a second keepalive on the same pidfile exits 0: silent without a terminal, one line on one', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const first = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  await first.childPid();

  const second = await runKeepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  t.is(second.status, 0);
  t.is(second.stderr, '');
  t.is(second.stdout, '');

  const command = [process.execPath, CLI, '--pidfile', pidfile, '--', 'sleep', marker]
    .map(quote)
    .join(' ');
  const third = await onTerminal(command);
  t.is(third.status, 0);
  t.is(third.output, `keepalive: already running (pid ${first.pid})\n`);
  t.is(children(marker).length, 1);
  t.is(readFileSync(pidfile, 'utf8'), `${first.pid}\n`);

  first.signal('SIGTERM');
  t.is((await first.ended).status, 143);
  t.deepEqual(readdirSync(directory), [], 'pidfile, state and lock removed on a clean exit');
});

test('20 keepalives started at once on one pidfile: one supervisor, one child, 19 silent exits with 0', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const all = Array.from(
    { length: 20 },
    () => new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]),
  );
  const ended = new Map<Keepalive, Ended>();
  for (const keepalive of all) void keepalive.ended.then((end) => ended.set(keepalive, end));

  await eventually('19 of the 20 to end', () => ended.size === 19, 30_000);
  const winner = all.find((keepalive) => !ended.has(keepalive)) as Keepalive;
  const child = await winner.childPid();
  for (const [keepalive, end] of ended) {
    t.is(end.status, 0);
    t.is(keepalive.stderr.text + keepalive.stdout.text, '');
  }
  t.deepEqual(
    children(marker).map((process_) => process_.pid),
    [child],
  );
  t.deepEqual(
    supervisors(marker).map((process_) => process_.pid),
    [winner.pid],
  );
  t.is(readFileSync(pidfile, 'utf8'), `${winner.pid}\n`);
  winner.signal('SIGTERM');
  await winner.ended;
});

test('a stale pidfile naming a dead pid is taken over, with a line saying so', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const gone = spawn('true');
  await once(gone, 'exit');
  writeFileSync(pidfile, `${gone.pid}\n`);

  const keepalive = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  const child = await keepalive.childPid();
  // The number may already belong to someone else: either way it is no keepalive.
  t.regex(
    keepalive.stderr.all[0] ?? '',
    new RegExp(
      `^keepalive: taking over ${pidfile}: (keepalive\\[${gone.pid}\\] is gone|pid ${gone.pid} is no longer keepalive but another program)$`,
    ),
  );
  t.is(readFileSync(pidfile, 'utf8'), `${keepalive.pid}\n`);
  t.deepEqual(
    children(marker).map((process_) => process_.pid),
    [child],
  );
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('a stale pidfile naming a live unrelated process is taken over, and that process is left alone', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const unrelated = spawn('sleep', [uniqueMarker()], { stdio: 'ignore' });
  t.teardown(() => unrelated.kill('SIGKILL'));
  await once(unrelated, 'spawn');
  writeFileSync(pidfile, `${unrelated.pid}\n`);

  const keepalive = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  await keepalive.childPid();
  t.is(
    keepalive.stderr.all[0],
    `keepalive: taking over ${pidfile}: pid ${unrelated.pid} is no longer keepalive but another program`,
  );
  t.is(readFileSync(pidfile, 'utf8'), `${keepalive.pid}\n`);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.true(alive(unrelated.pid as number), 'never signalled');
  t.is(unrelated.exitCode, null);
});

test('after a SIGKILL to keepalive, the next one stops the child it left before starting its own', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const args = [
    '--pidfile',
    pidfile,
    '--kill-timeout',
    '5s',
    '--',
    fixture('slow-stop.sh'),
    marker,
  ];
  const first = new Keepalive(args);
  const orphan = await first.childPid();
  await first.stdout.next(/^ready$/);
  first.signal('SIGKILL');
  await once(first.process, 'exit'); // not 'close': the orphan still holds the pipes
  t.true(alive(orphan), 'the child outlives a SIGKILLed keepalive: it runs in its own session');

  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, children(marker).length);
      await sleep(5);
    }
  })();
  const second = new Keepalive(args);
  const child = await second.childPid();
  sampling = false;
  await sampler;

  t.is(most, 1, 'never two business processes, not even while the old one takes 400ms to stop');
  t.not(child, orphan);
  t.deepEqual(
    children(marker).map((process_) => process_.pid),
    [child],
    'the old child has ended (init may not have reaped it yet)',
  );
  t.deepEqual(second.stderr.all.slice(0, 3), [
    `keepalive: taking over ${pidfile}: keepalive[${first.pid}] is gone`,
    `keepalive: stopping slow-stop[${orphan}], left running by a keepalive that was killed`,
    `keepalive: slow-stop[${child}] started`,
  ]);
  second.signal('SIGTERM');
  await second.ended;
});

test('symlinks planted beside the pidfile are refused, never followed', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const victim = join(directory, 'victim');
  writeFileSync(victim, 'precious\n');
  for (const planted of [`${pidfile}.state`, `${pidfile}.lock`, pidfile]) {
    symlinkSync(victim, planted);
    const result = await runKeepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
    t.is(result.status, 1, planted);
    t.regex(result.stderr, /^keepalive: cannot take .*app\.pid: .*symbolic link/, planted);
    t.true(lstatSync(planted).isSymbolicLink());
    t.is(readFileSync(victim, 'utf8'), 'precious\n');
    t.is(children(marker).length, 0);
    t.deepEqual(
      readdirSync(directory).sort(),
      [planted.slice(directory.length + 1), 'victim'].sort(),
      'nothing else left behind',
    );
    unlinkSync(planted);
  }
});

test('a --pidfile naming a file that is no pidfile is refused, and the file kept as it was', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const notes = join(directory, 'notes.txt');
  writeFileSync(notes, 'my notes\n');
  const result = await runKeepalive(['--pidfile', notes, '--', 'sleep', marker]);
  t.is(result.status, 1);
  t.is(result.stderr, `keepalive: cannot take ${notes}: it holds no pid: not a pidfile?\n`);
  t.is(readFileSync(notes, 'utf8'), 'my notes\n');
  t.deepEqual(readdirSync(directory), ['notes.txt']);
  t.deepEqual(children(marker), []);
});

test.serial(
  'a cron-like loop with random SIGKILLs: never two children, and a child again within a period',
  async (t) => {
    const marker = uniqueMarker();
    const directory = workspace(t, marker);
    const pidfile = join(directory, 'app.pid');
    const logFile = join(directory, 'app.log');
    const PERIOD_MS = 1000;
    const RUN_MS = 16_000;
    // Two node starts (--detach) and a takeover, on a two-core machine that also runs the rest of
    // the suite (builds of the single executable among it): seen up to 4.1 s there, 0.5 s when
    // quiet.
    const SLACK_MS = 4000;
    const cronArgs = [
      '--pidfile',
      pidfile,
      '--detach',
      '--log-file',
      logFile,
      '--kill-timeout',
      '2s',
      '--reset-after',
      '1s',
      '--',
      'sleep',
      marker,
    ];
    const start = performance.now();
    const since = (): number => performance.now() - start;

    const launches: Array<Promise<Awaited<ReturnType<typeof runKeepalive>>>> = [];
    const cron = (async () => {
      while (since() < RUN_MS) {
        launches.push(runKeepalive(cronArgs));
        await sleep(PERIOD_MS);
      }
    })();

    const samples: Array<{ at: number; children: number[] }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: since(), children: children(marker).map((process_) => process_.pid) });
        await sleep(20);
      }
    })();

    const kills: Array<{
      at: number;
      what: 'child' | 'supervisor';
      childBefore: number | undefined;
    }> = [];
    const killer = (async () => {
      let what: 'child' | 'supervisor' = Math.random() < 0.5 ? 'child' : 'supervisor';
      await sleep(2000 + Math.random() * 1000);
      while (since() < RUN_MS - PERIOD_MS - SLACK_MS) {
        const child = children(marker)[0]?.pid;
        const supervisor = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : undefined;
        const victim = what === 'child' ? child : supervisor;
        if (victim === undefined || child === undefined) {
          // Nothing to kill yet (a slow first start): look again soon, not a whole round later, or
          // a loaded machine leaves room for one kill only.
          await sleep(50);
          continue;
        }
        process.kill(victim, 'SIGKILL');
        kills.push({ at: since(), what, childBefore: child });
        what = what === 'child' ? 'supervisor' : 'child';
        await sleep(PERIOD_MS + SLACK_MS + Math.random() * 1000);
      }
    })();

    await Promise.all([cron, killer]);
    await eventually('one child after the loop', () => children(marker).length === 1, 10_000);
    sampling = false;
    await sampler;
    const results = await Promise.all(launches);

    // Each sample reads all of /proc: on a loaded machine that is slow, but the sampler must have
    // run throughout.
    t.true(samples.length > 50, `sampled often: ${samples.length} samples`);
    const crowded = samples.filter((sample) => sample.children.length > 1);
    t.deepEqual(crowded, [], 'never two children at one moment');
    t.true(
      kills.some((kill) => kill.what === 'child') &&
        kills.some((kill) => kill.what === 'supervisor'),
      JSON.stringify(kills),
    );
    const recoveries: string[] = [];
    for (const kill of kills) {
      const back = samples.find(
        (sample) =>
          sample.at > kill.at &&
          sample.children.length === 1 &&
          sample.children[0] !== kill.childBefore,
      );
      t.truthy(back, `a new child after the ${kill.what} kill at ${Math.round(kill.at)}ms`);
      if (!back) continue;
      recoveries.push(`${kill.what} ${Math.round(back.at - kill.at)}ms`);
      t.true(
        back.at - kill.at <= PERIOD_MS + SLACK_MS,
        `${kill.what} kill at ${Math.round(kill.at)}ms: new child after ${Math.round(back.at - kill.at)}ms`,
      );
    }
    for (const result of results) {
      t.is(result.status, 0);
      t.is(result.stderr, '', 'cron gets no mail');
    }
    const log = readFileSync(logFile, 'utf8');
    t.is(
      log.match(/taking over/g)?.length,
      kills.filter((kill) => kill.what === 'supervisor').length,
      log,
    );

    const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
    t.is(stopped.status, 0);
    t.deepEqual(children(marker), []);
    t.deepEqual(supervisors(marker), []);
    t.deepEqual(readdirSync(directory), ['app.log']);
    t.log(
      `${launches.length} launches, ${samples.length} samples, new child after each kill: ${recoveries.join(', ')}`,
    );
  },
);

test('FILE.lock removed under a live supervisor: no second child; status, stop work', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const first = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  const child = await first.childPid();
  unlinkSync(`${pidfile}.lock`); // as a careless clean-up of old files would

  const second = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  t.teardown(() => {
    // Ended even when an assertion failed first (the workspace's teardown then takes the children).
    for (const keepalive of [second, first]) {
      if (keepalive.process.exitCode === null) keepalive.signal('SIGKILL');
    }
  });
  const ended = await Promise.race([second.ended, sleep(30_000, undefined, { ref: false })]);
  t.is(ended?.status, 0, `the second keepalive ends at once: ${second.stderr.text}`);
  t.is(second.stderr.text, '', 'silent, as for any keepalive that finds FILE taken');
  t.deepEqual(
    children(marker).map((process_) => process_.pid),
    [child],
  );

  const status = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(status.status, 0, status.stdout);
  t.regex(status.stdout, new RegExp(`^running: keepalive\\[${first.pid}\\]`));
  const stop = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 0, stop.stderr);
  await first.ended;
  t.deepEqual(children(marker), []);
  t.deepEqual(
    readdirSync(directory),
    [],
    'nothing left, not even the lock file the second one made',
  );
});
