// --detach, --log-file and `keepalive status | stop | restart` end to end, on real files.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { CLI, fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import {
  children,
  eventually,
  running,
  supervisors,
  uniqueMarker,
  workspace,
} from '../helpers/proc.js';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

test('--detach returns once the child runs; the supervisor outlives the launching shell; status, restart, stop', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const logFile = join(directory, 'app.log');

  // A shell that launches keepalive and ends, as cron's does.
  const shell = spawn(
    'sh',
    [
      '-c',
      `"$@"; echo "launched: $?"`,
      'sh',
      process.execPath,
      CLI,
      '--pidfile',
      pidfile,
      '--detach',
      '--log-file',
      logFile,
      '--',
      'sleep',
      marker,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  shell.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [shellStatus] = (await once(shell, 'close')) as [number];
  t.is(shellStatus, 0);
  t.is(output, 'launched: 0\n', 'nothing printed without a terminal');

  // The child was running when the foreground returned.
  const [child] = children(marker);
  t.truthy(child, 'the child runs as soon as --detach returns');
  const supervisorPid = Number(readFileSync(pidfile, 'utf8'));
  const [supervisor] = supervisors(marker);
  t.is(supervisor?.pid, supervisorPid);
  t.is(supervisor?.sid, supervisorPid, 'in a session of its own');
  t.not(supervisor?.sid, running().find((process_) => process_.pid === process.pid)?.sid);
  await sleep(500); // the launching shell is gone: the pair must stay
  t.deepEqual(
    children(marker).map((process_) => process_.pid),
    [child?.pid],
  );

  t.is(mode(pidfile), '644');
  t.is(mode(`${pidfile}.state`), '644');
  t.is(mode(`${pidfile}.lock`), '600');
  t.is(mode(logFile), '600');
  t.regex(
    readFileSync(logFile, 'utf8'),
    new RegExp(`^keepalive: sleep\\[${child?.pid}\\] started$`, 'm'),
  );

  const text = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(text.status, 0);
  t.regex(
    text.stdout,
    new RegExp(
      `^running: keepalive\\[${supervisorPid}\\], up [\\d.]+m?s\\nchild: sleep\\[${child?.pid}\\], up [\\d.]+m?s\\nrestarts: 0\\n$`,
    ),
  );
  const json = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
  t.is(json.status, 0);
  t.like(JSON.parse(json.stdout), {
    state: 'running',
    pidfile,
    name: 'sleep',
    supervisorPid,
    childPid: child?.pid,
    restarts: 0,
    lastExit: null,
    lastStatusText: '',
  });

  const restarted = await runKeepalive(['restart', '--pidfile', pidfile]);
  t.is(restarted.status, 0);
  const [newChild] = children(marker);
  t.truthy(newChild);
  t.not(newChild?.pid, child?.pid, 'a new child');
  t.is(
    restarted.stderr,
    `keepalive: restarted: sleep[${newChild?.pid}] (was sleep[${child?.pid}])\n`,
  );
  t.is(Number(readFileSync(pidfile, 'utf8')), supervisorPid, 'the same supervisor');
  t.deepEqual(
    supervisors(marker).map((process_) => process_.pid),
    [supervisorPid],
  );
  const after = JSON.parse(
    (await runKeepalive(['status', '--pidfile', pidfile, '--json'])).stdout,
  ) as Record<string, unknown>;
  t.like(after, {
    childPid: newChild?.pid,
    restarts: 1,
    lastExit: `sleep[${child?.pid}] killed: SIGTERM (Termination), status 143`,
  });
  t.regex(
    readFileSync(logFile, 'utf8'),
    /restart requested by `keepalive restart`\n.*restart 1 requested\n.*started \(restart 1\)\n/,
  );

  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0);
  t.is(
    stopped.stderr,
    `keepalive: stopped keepalive[${supervisorPid}] and sleep[${newChild?.pid}]\n`,
  );
  t.deepEqual(children(marker), []);
  t.deepEqual(supervisors(marker), []);
  t.deepEqual(readdirSync(directory), ['app.log'], 'pidfile, state and lock removed');
  t.regex(
    readFileSync(logFile, 'utf8'),
    /stop requested by `keepalive stop`\n.*stopping sleep\[\d+\] with SIGTERM .*\n.*; stopped\n$/,
  );

  for (const command of ['status', 'stop', 'restart']) {
    const result = await runKeepalive([command, '--pidfile', pidfile]);
    t.is(result.status, 3, `${command} without a pidfile: not running`);
    t.is(
      result.stdout + result.stderr,
      command === 'status'
        ? `not running: no ${pidfile}\n`
        : `keepalive: not running (no ${pidfile})\n`,
    );
  }
});

test('--detach with a command that is not found: 127 and the reason, in the foreground; nothing left behind', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const logFile = join(directory, 'app.log');
  const result = await runKeepalive([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    logFile,
    '--',
    `no-such-command-${marker}`,
  ]);
  t.is(result.status, 127);
  t.is(
    result.stderr,
    `keepalive: no-such-command-${marker} not started: command not found: no-such-command-${marker}, status 127; check the command and try again\n`,
  );
  await eventually(
    'the background keepalive to clean up and end',
    () => readdirSync(directory).length === 1 && supervisors(marker).length === 0,
  );
  t.deepEqual(readdirSync(directory), ['app.log']);
  t.regex(readFileSync(logFile, 'utf8'), /not started: command not found/);
});

test('--detach without a pidfile directory fails loudly in the foreground', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'missing', 'app.pid');
  const result = await runKeepalive(['--pidfile', pidfile, '--detach', '--', 'sleep', marker]);
  t.is(result.status, 1);
  t.regex(result.stderr, new RegExp(`^keepalive: cannot take ${pidfile}: .*ENOENT.*\\n$`));
  await eventually(
    'no keepalive left',
    () => supervisors(marker).length === 0 && children(marker).length === 0,
  );
  t.pass();
});

test('after a SIGKILL: status says stale (3) and names the child left running; stop stops it and cleans up', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const keepalive = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  const orphan = await keepalive.childPid();
  keepalive.signal('SIGKILL');
  await once(keepalive.process, 'exit');

  const text = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(text.status, 3);
  t.is(
    text.stdout,
    `not running: stale ${pidfile}: keepalive[${keepalive.pid}] is gone\n` +
      `left running: sleep[${orphan}], by a keepalive that was killed; the next keepalive or \`keepalive stop\` stops it\n` +
      'restarts: 0\n',
  );
  const json = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
  t.is(json.status, 3);
  t.like(JSON.parse(json.stdout), {
    state: 'stale',
    supervisorPid: keepalive.pid,
    childPid: orphan,
  });
  const restart = await runKeepalive(['restart', '--pidfile', pidfile]);
  t.is(restart.status, 3);
  t.is(
    restart.stderr,
    `keepalive: not running: stale ${pidfile} (keepalive[${keepalive.pid}] is gone)\n`,
  );

  const stop = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 3);
  t.is(
    stop.stderr,
    `keepalive: not running: stale ${pidfile} (keepalive[${keepalive.pid}] is gone); stopped sleep[${orphan}], left running by it; removed the stale files\n`,
  );
  t.deepEqual(children(marker), []);
  t.deepEqual(readdirSync(directory), []);
});

test('a pidfile keepalive cannot read as one: status 4, unknown', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  mkdirSync(pidfile); // unreadable as a file even for root, who reads through any mode bits
  const result = await runKeepalive(['status', '--pidfile', pidfile]);
  t.is(result.status, 4);
  t.is(result.stdout, `unknown: ${pidfile}: it is a directory\n`);
  const json = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
  t.is(json.status, 4);
  t.like(JSON.parse(json.stdout), { state: 'unknown' });
});

test('--log-file without --detach: keepalive lines go to the file, appended, and nowhere else', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const logFile = join(directory, 'app.log');
  writeFileSync(logFile, 'earlier line\n');
  const result = await runKeepalive([
    '--log-file',
    logFile,
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo out; exit 3',
  ]);
  t.is(result.status, 3);
  t.is(result.stderr, '');
  t.is(result.stdout, 'out\n', "the child's output is its own");
  t.regex(
    readFileSync(logFile, 'utf8'),
    /^earlier line\nkeepalive: sh\[\d+\] started\nkeepalive: sh\[\d+\] exited with code 3; not restarting \(--restart never\)\n$/,
  );
});

const controlUsage: Array<[string, string[], string]> = [
  [
    'status without --pidfile',
    ['status'],
    'keepalive: status: --pidfile FILE is required; usage: keepalive status --pidfile FILE [--json]',
  ],
  [
    'stop without --pidfile',
    ['stop'],
    'keepalive: stop: --pidfile FILE is required; usage: keepalive stop --pidfile FILE',
  ],
  [
    'an empty --pidfile',
    ['restart', '--pidfile', ''],
    'keepalive: --pidfile "": expected a file path (in UTF-8)',
  ],
  [
    '--json on stop',
    ['stop', '--pidfile', 'x.pid', '--json'],
    'keepalive: unknown option or word "--json"; usage: keepalive stop --pidfile FILE',
  ],
  [
    'a stray word',
    ['status', '--pidfile', 'x.pid', 'now'],
    'keepalive: unknown option or word "now"; usage: keepalive status --pidfile FILE [--json]',
  ],
  [
    'an empty --log-file',
    ['--log-file=', '--', 'true'],
    'keepalive: --log-file "": expected a file path (in UTF-8)',
  ],
];

for (const [what, args, message] of controlUsage) {
  test(`bad usage, ${what}: one line, status 2`, async (t) => {
    const result = await runKeepalive(args);
    t.is(result.status, 2);
    t.is(result.stderr, `${message}\n`);
    t.is(result.stdout, '');
  });
}

test('a program named "status" still runs after --', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  writeFileSync(join(directory, 'status'), '#!/bin/sh\necho "I am status: $*"\n', { mode: 0o755 });
  const result = await runKeepalive(['--restart', 'never', '--', 'status', '--pidfile', 'x'], {
    env: { PATH: `${directory}:${process.env['PATH']}` },
  });
  t.is(result.status, 0);
  t.is(result.stdout, 'I am status: --pidfile x\n');
});

test('--help names the subcommands and the cron options', async (t) => {
  const result = await runKeepalive(['--help']);
  t.is(result.status, 0);
  for (const text of [
    'keepalive status --pidfile FILE [--json]',
    'keepalive stop --pidfile FILE',
    'keepalive restart --pidfile FILE',
    '--pidfile',
    '--detach',
    '--log-file',
  ]) {
    t.true(result.stdout.includes(text), text);
  }
  const status = await runKeepalive(['status', '--help']);
  t.is(status.status, 0);
  t.regex(
    status.stdout,
    /keepalive status --pidfile FILE \[--json\][\s\S]*0 running[\s\S]*3 not running[\s\S]*4\s+unknown/,
  );
});

test('with --pidfile, SIGHUP, SIGUSR1 and SIGUSR2 still go to the child: restart has its own channel', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const keepalive = new Keepalive(['--pidfile', pidfile, '--delay', '0', '--', 'sleep', marker]);
  let restarts = 0;
  for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
    const child = await keepalive.childPid(restarts);
    keepalive.signal(signal);
    await keepalive.stderr.next(new RegExp(`sleep\\[${child}\\] killed: ${signal} `));
    restarts += 1;
  }
  await keepalive.childPid(restarts);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('restart requested'));
  t.deepEqual(readdirSync(directory), []);
});

test("status shows the child's last STATUS= text, from the notify channel", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const script =
    'echo "STATUS=warming up" >&3; sleep 0.2; echo "STATUS=serving 3 clients" >&3; exec sleep "$0"';
  const keepalive = new Keepalive(['--pidfile', pidfile, '--', 'sh', '-c', script, marker]);
  t.teardown(() => keepalive.signal('SIGKILL'));
  // The state file takes STATUS= texts at most every half second: ask until the last one shows.
  let report: { state?: string; lastStatusText?: string } = {};
  for (let asked = 0; asked < 50 && report.lastStatusText !== 'serving 3 clients'; asked++) {
    const json = await runKeepalive(['status', '--pidfile', pidfile, '--json']);
    report = JSON.parse(json.stdout || '{}') as typeof report;
    if (report.lastStatusText !== 'serving 3 clients') await sleep(100);
  }
  t.like(report, { state: 'running', lastStatusText: 'serving 3 clients' });
  const text = await runKeepalive(['status', '--pidfile', pidfile]);
  t.regex(text.stdout, /serving 3 clients/);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('stop asks keepalive to stop its child with --stop-signal, as design.md says', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const script =
    'trap "echo got INT; exit 0" INT; trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.05; done';
  const keepalive = new Keepalive([
    '--pidfile',
    pidfile,
    '--stop-signal',
    'SIGINT',
    '--',
    'sh',
    '-c',
    script,
    marker,
  ]);
  t.teardown(() => keepalive.signal('SIGKILL'));
  await keepalive.stdout.next(/^ready$/);
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
  const ended = await keepalive.ended;
  t.is(ended.status, 0);
  t.true(keepalive.stdout.all.includes('got INT'), keepalive.stdout.text);
  t.regex(keepalive.stderr.text, /stop requested by `keepalive stop`/);
  t.regex(keepalive.stderr.text, /stopping sh\[\d+\] with SIGINT \(SIGKILL after 8s\)/);
  t.deepEqual(readdirSync(directory), [], 'every file beside FILE is gone');
});

const phase = (pidfile: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(`${pidfile}.state`, 'utf8')) as { phase?: string }).phase;
  } catch {
    return undefined;
  }
};

test('stop: a keepalive that took up FILE.stop and does not end is said so, with no word of a SIGTERM never sent', async (t) => {
  const marker = uniqueMarker();
  const pidfile = join(workspace(t, marker), 'app.pid');
  const keepalive = new Keepalive([
    '--pidfile',
    pidfile,
    '--kill-timeout',
    '2s',
    '--',
    'sh',
    fixture('ignore-stop.sh'),
    marker,
  ]);
  await keepalive.stdout.next(/^ready$/);
  const stop = new Keepalive(['stop', '--pidfile', pidfile]);
  // Stopping, through FILE.stop: now freeze it, so that it cannot end within the wait.
  await eventually('the stop request taken up', () => phase(pidfile) === 'stopping');
  keepalive.signal('SIGSTOP');
  const stopped = await stop.ended;
  keepalive.signal('SIGCONT');
  await keepalive.ended;
  t.is(stopped.status, 1);
  t.is(
    stop.stderr.text,
    `keepalive: keepalive[${keepalive.pid}] is still running 12s after it took up ${pidfile}.stop\n`,
  );
});
