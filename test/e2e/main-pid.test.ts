// MAINPID=N and the phases a child says it is in (RELOADING=1, READY=1, STOPPING=1), driven by
// clients nobody here wrote: systemd-notify, python3-systemd, and a forking C daemon on libsystemd.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { alive, CLI, fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { eventually } from '../helpers/proc.js';

const run = promisify(execFile);
/** Debian's python3-systemd is installed for the system's python, not for one on PATH. */
const PYTHON = '/usr/bin/python3';

function scratch(t: ExecutionContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-mainpid-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A process of the test's own, outside any keepalive's tree; killed when the test ends. */
function stranger(t: ExecutionContext, command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return child;
}

test("systemd-notify --pid: the reporter exits 0, the run goes on until the named process ends, and its exit is keepalive's", async (t) => {
  const script =
    'sh -c "sleep 1; exit 3" & systemd-notify --ready --pid=$! || exit 9; echo "service $!"; exit 0';
  const started = performance.now();
  const result = await runKeepalive(['-v', '--restart', 'never', '--', 'sh', '-c', script]);
  const service = Number(/^service (\d+)$/m.exec(result.stdout)?.[1]);
  t.is(result.status, 3, result.stderr);
  t.true(
    performance.now() - started > 900,
    'keepalive waited for the service, not for the reporter',
  );
  t.regex(
    result.stderr,
    new RegExp(`sh\\[\\d+\\] handed over to sh\\[${service}\\] \\(MAINPID=${service}\\)`),
  );
  t.regex(
    result.stderr,
    new RegExp(
      `sh\\[\\d+\\] exited with code 0 after handing over; sh\\[${service}\\] \\(MAINPID\\) runs on`,
    ),
  );
  t.regex(result.stderr, new RegExp(`sh\\[${service}\\] exited with code 3; not restarting`));
});

test("MAINPID= on the pipe: the named process's SIGKILL is the exit keepalive restarts on, and gives up on", async (t) => {
  const script = 'setsid sleep 300 & echo "MAINPID=$!" >&3; echo "service $!"; exit 0';
  const keepalive = new Keepalive([
    '--restart',
    'always',
    '--max-restarts',
    '1',
    '--delay',
    '0',
    '--',
    'sh',
    '-c',
    script,
  ]);
  const services: number[] = [];
  try {
    for (const nth of [0, 1]) {
      const [, pid] = await keepalive.stdout.next(/^service (\d+)$/, nth);
      services.push(Number(pid));
      // The reporter's exit is not the end: the service is still supervised after it.
      await keepalive.stderr.next(nth === 0 ? /started$/ : /started \(restart 1\)$/);
      await eventually('the reporter to be gone and the service to run', () => alive(Number(pid)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.notRegex(keepalive.stderr.text, nth === 0 ? /exited with code 0/ : /giving up/);
      process.kill(Number(pid), 'SIGKILL');
    }
    const ended = await keepalive.ended;
    t.is(ended.status, 137, keepalive.stderr.text);
    t.regex(
      keepalive.stderr.text,
      new RegExp(
        `sh\\[${services[0]}\\] killed: SIGKILL \\(Forced termination\\), status 137; restart 1`,
      ),
    );
    t.regex(
      keepalive.stderr.text,
      new RegExp(
        `sh\\[${services[1]}\\] killed: SIGKILL \\(Forced termination\\), status 137; giving up`,
      ),
    );
  } finally {
    keepalive.signal('SIGKILL');
    for (const pid of services) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test("python3-systemd: a forking daemon's MAINPID= shows in `keepalive status`; a stop ends the service and leaves nothing", async (t) => {
  const pidfile = join(scratch(t), 'app.pid');
  const keepalive = new Keepalive([
    '-v',
    '--pidfile',
    pidfile,
    '--',
    PYTHON,
    fixture('sd-notify.py'),
    'fork',
  ]);
  t.teardown(() => keepalive.signal('SIGKILL')); // a failed test leaves no keepalive behind
  const service = Number((await keepalive.stdout.next(/^service (\d+)$/))[1]);
  t.teardown(() => {
    if (alive(service)) process.kill(service, 'SIGKILL');
  });
  await keepalive.stderr.next(/exited with code 0 after handing over/);
  // A pid in the record must be ours: it names the process keepalive now waits for.
  const report = await eventually('`keepalive status` to name the service as the child', () => {
    const { report } = statusOf(pidfile);
    return report.childPid === service && report.state === 'ready' ? report : undefined;
  });
  t.is(statusOf(pidfile).status, 0);
  t.is(report.childPid, service);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 143, keepalive.stderr.text);
  t.regex(
    keepalive.stderr.text,
    new RegExp(`SIGTERM received: stopping sd-notify\\[${service}\\]`),
  );
  t.regex(
    keepalive.stderr.text,
    new RegExp(`sd-notify\\[${service}\\] killed: SIGTERM \\(Termination\\), status 143; stopped`),
  );
  t.false(alive(service), 'the service is gone');
});

function statusOf(pidfile: string): {
  status: number | null;
  report: { state: string; childPid: number | null };
} {
  const result = spawnSync(process.execPath, [CLI, 'status', '--pidfile', pidfile, '--json'], {
    encoding: 'utf8',
  });
  return {
    status: result.status,
    report: JSON.parse(result.stdout) as { state: string; childPid: number | null },
  };
}

test("libsystemd: a C daemon that forks, leaves the session and reports its own MAINPID=; its exit status is keepalive's", async (t) => {
  const program = join(scratch(t), 'sd-forking');
  await run('gcc', ['-o', program, fixture('sd-forking.c'), '-lsystemd']);
  const result = await runKeepalive(['-v', '--restart', 'never', '--', program, '1', '5']);
  const service = Number(/^service (\d+)$/m.exec(result.stdout)?.[1]);
  t.is(result.status, 5, result.stderr);
  t.regex(result.stderr, new RegExp(`handed over to sd-forking\\[${service}\\]`));
  t.regex(result.stderr, /status: forked/);
  t.regex(
    result.stderr,
    new RegExp(`sd-forking\\[${service}\\] exited with code 5; not restarting`),
  );
});

test("a MAINPID= naming keepalive, pid 1, a dead pid, a stranger or another user's process is refused and counted; keepalive neither waits for nor signals it", async (t) => {
  const outsider = stranger(t, 'sleep', ['30']);
  const otherUser = stranger(t, 'setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'sleep',
    '30',
  ]);
  const gone = spawn('true');
  await once(gone, 'exit');
  await eventually("the other user's sleep to run as that user", () =>
    /^Uid:\s+65534/m.test(readStatus(otherUser.pid as number)),
  );
  // On the pipe and on the socket alike; the leader exits 4 and that is the run's end.
  const script = `echo "MAINPID=$PPID" >&3; systemd-notify MAINPID=1; echo "MAINPID=${gone.pid}" >&3; systemd-notify MAINPID=${outsider.pid}; echo "MAINPID=${otherUser.pid}" >&3; sleep 0.5; exit 4`;
  const result = await runKeepalive(['-v', '--restart', 'never', '--', 'sh', '-c', script]);
  t.is(result.status, 4, result.stderr);
  const refusals = result.lines.filter((line) => / sent MAINPID=\d+: refused, /.test(line));
  t.is(refusals.length, 5, result.stderr);
  // The pipe and the socket are read in no fixed order between them: each reason, and the count.
  t.regex(
    result.stderr,
    /sent MAINPID=\d+: refused, that is keepalive itself; keepalive goes on with sh\[\d+\]/,
  );
  t.regex(result.stderr, /sent MAINPID=1: refused, pid 1 is no process of the child/);
  t.regex(result.stderr, new RegExp(`sent MAINPID=${gone.pid}: refused, no such process`));
  t.regex(
    result.stderr,
    new RegExp(`sent MAINPID=${outsider.pid}: refused, not a process of the child's tree`),
  );
  t.regex(
    result.stderr,
    new RegExp(`sent MAINPID=${otherUser.pid}: refused, not a process of the child's tree`),
  );
  t.regex(result.stderr, /\(5 refused in this run\)$/m);
  t.notRegex(result.stderr, /handed over/);
  t.true(alive(outsider.pid as number) && alive(otherUser.pid as number), 'neither was signalled');
  // Without -v only the first refusal of a run is said.
  const quiet = await runKeepalive([
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    `echo "MAINPID=${outsider.pid}" >&3; echo MAINPID=1 >&3; sleep 0.3`,
  ]);
  t.is(quiet.lines.filter((line) => line.includes('refused')).length, 1, quiet.stderr);
});

test('--no-subreaper: MAINPID= is refused, since keepalive could not wait for that process', async (t) => {
  const result = await runKeepalive([
    '-v',
    '--no-subreaper',
    '--kill-timeout',
    '1s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'sleep 5 & echo "MAINPID=$!" >&3; sleep 0.3; exit 0',
  ]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /refused, keepalive is no subreaper here/);
});

test('a second MAINPID= moves the run on to that process; the first is then only part of the tree', async (t) => {
  const script =
    'setsid sleep 300 & first=$!; setsid sh -c "sleep 1; exit 6" & second=$!; echo "MAINPID=$first" >&3; sleep 0.2; systemd-notify MAINPID=$second; echo "first $first"; exit 0';
  const result = await runKeepalive([
    '-v',
    '--restart',
    'never',
    '--kill-timeout',
    '2s',
    '--',
    'sh',
    '-c',
    script,
  ]);
  const first = Number(/^first (\d+)$/m.exec(result.stdout)?.[1]);
  t.is(result.status, 6, result.stderr);
  t.regex(result.stderr, new RegExp(`handed over to sh\\[${first}\\]`));
  t.regex(result.stderr, new RegExp(`sh\\[${first}\\] handed over to sh\\[\\d+\\]`));
  // The first one is what the run left behind: swept, as any leftover.
  t.regex(result.stderr, new RegExp(`left 1 process behind \\(sleep\\[${first}\\]\\)`));
  t.false(alive(first));
});

test('`keepalive status` follows what the child says: running, ready, reloading, ready, stopping', async (t) => {
  const directory = scratch(t);
  const pidfile = join(directory, 'app.pid');
  // Bounded (30 s), so that a shell left behind by a worker that timed out ends by itself.
  const step = (name: string): string =>
    `i=0; until [ -e ${directory}/${name} ] || [ $i -ge 1500 ]; do sleep 0.02; i=$((i + 1)); done`;
  const script = [
    step('go'),
    'systemd-notify --ready',
    step('reload'),
    'systemd-notify RELOADING=1 MONOTONIC_USEC=123456789',
    step('reloaded'),
    'systemd-notify --ready',
    step('stop'),
    'systemd-notify STOPPING=1',
    'sleep 30',
  ].join('; ');
  const keepalive = new Keepalive(['-v', '--pidfile', pidfile, '--', 'sh', '-c', script]);
  t.teardown(() => keepalive.signal('SIGKILL')); // a failed test leaves no keepalive behind
  try {
    for (const [file, state, status] of [
      [undefined, 'running', 0],
      ['go', 'ready', 0],
      ['reload', 'reloading', 0],
      ['reloaded', 'ready', 0],
      ['stop', 'stopping', 1],
    ] as const) {
      if (file) writeFileSync(join(directory, file), '');
      // `reloaded`: the second ready comes after the reload, not the first one seen again.
      if (file === 'reloaded')
        await keepalive.stderr.next(/is ready again \(READY=1 \d+ms after RELOADING=1\)/);
      const seen = await eventually(`status ${state}`, () => {
        const now = statusOf(pidfile);
        return now.report.state === state ? now : undefined;
      });
      t.is(seen.status, status, state);
    }
    t.regex(keepalive.stderr.text, /is reloading \(RELOADING=1\)/);
    await keepalive.stderr.next(/is stopping \(STOPPING=1\)/);
  } finally {
    keepalive.signal('SIGTERM');
    await keepalive.ended;
  }
});

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

test('--notify-access main follows MAINPID=: the named process may speak from then on, the old leader may not', async (t) => {
  // systemd-notify speaks for the shell that runs it (its credentials name its parent).
  const service = 'sleep 0.4; systemd-notify --status=from-service; sleep 0.6; exit 7';
  const script = `setsid sh -c '${service}' & systemd-notify "MAINPID=$!" || exit 9; systemd-notify --status=from-leader; exit 0`;
  const result = await runKeepalive([
    '-v',
    '--notify-access',
    'main',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.is(result.status, 7, result.stderr);
  t.regex(result.stderr, /handed over to sh\[\d+\]/);
  t.regex(result.stderr, /status: from-service/);
  t.notRegex(result.stderr, /status: from-leader/);
  t.regex(result.stderr, /dropped 1 notify line: 1 from a process --notify-access does not allow/);
});

test('a named process that ends while the reporter is still its parent ends the run too (the reporter took its status: a plain exit)', async (t) => {
  const started = performance.now();
  const script = 'sh -c "sleep 0.5; exit 3" & echo "MAINPID=$!" >&3; wait; sleep 30';
  const result = await runKeepalive(['-v', '--restart', 'never', '--', 'sh', '-c', script]);
  t.is(result.status, 0, result.stderr);
  t.true(
    performance.now() - started < 10_000,
    'the run ended with the named process, not with the reporter',
  );
  t.regex(
    result.stderr,
    /handed over to sh\[(\d+)\][^\n]*\n(.*\n)*.*sh\[\1\] exited with code 0; not restarting/,
  );
  // The reporter, still running, was what the run left behind.
  t.regex(result.stderr, /left 2 processes behind \((sh|sleep)\[\d+\], (sh|sleep)\[\d+\]\)/);
  t.notRegex(result.stderr, /after handing over/);
});

test("after a hand-over, the departed leader's number may be another's: its group is never signalled then", async (t) => {
  // A PID namespace of the test's own, where ns_last_pid hands the leader's number to a stranger
  // (a session of its own, so its group has that number too) once the leader is gone and reaped.
  const directory = scratch(t);
  const log = join(directory, 'keepalive.log');
  const script = `
    node '${CLI}' -v --kill-timeout 2s -- sh -c 'setsid sleep 1001 & echo "MAINPID=$!" >&3; sleep 0.3; exit 0' 2>'${log}' &
    keepalive=$!
    until grep -q 'after handing over' '${log}'; do sleep 0.05; done
    leader=$(sed -n 's/.*sh\\[\\([0-9]*\\)\\] started.*/\\1/p' '${log}')
    echo $((leader - 1)) > /proc/sys/kernel/ns_last_pid
    setsid sleep 1002 &
    stranger=$!
    until [ "$(cut -d' ' -f5 /proc/$stranger/stat)" = "$stranger" ]; do sleep 0.05; done  # its setsid() is done
    echo "leader $leader stranger $stranger"
    kill -TERM $keepalive; wait $keepalive; echo "keepalive $?"
    kill -0 $stranger 2>/dev/null && echo 'stranger alive'
    kill -KILL $stranger`;
  const result = spawnSync(
    'unshare',
    ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', script],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const [, leader, strangerPid] = /^leader (\d+) stranger (\d+)$/m.exec(result.stdout) ?? [];
  t.truthy(leader, result.stdout + result.stderr);
  t.is(strangerPid, leader, "the stranger was given the leader's number");
  t.regex(result.stdout, /^keepalive 143$/m, readFileSync(log, 'utf8'));
  t.regex(result.stdout, /^stranger alive$/m, readFileSync(log, 'utf8'));
});
