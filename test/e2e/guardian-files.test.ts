// The cron guardian against another user on the machine (issue 10) and against its own death in
// the middle of a sweep (issue 9, point 4). A throwaway user plants files in a sticky
// world-writable directory, as on /tmp; keepalive runs as root, as cron guardians do. Real users,
// FIFOs, a real full disk (a 64 KB tmpfs), real zombies, real SIGKILLs.
import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CLI, fixture, Keepalive, type Ended } from '../helpers/keepalive.js';
import { children, eventually, killMarked, uniqueMarker, workspace } from '../helpers/proc.js';

const USER = `kaf${Math.floor(Math.random() * 1e6)}`;
let uid = -1;

const COMMENT = 'keepalive test user of pid ';

function removeUser(name: string): void {
  spawnSync('pkill', ['-KILL', '-u', name]); // by user id: only what the throwaway user runs
  spawnSync('userdel', [name]);
}

test.before(() => {
  // Users an earlier run could not remove (its worker was killed): known by the comment, whose pid
  // is gone.
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , , , comment] = line.split(':');
    const owner = comment?.startsWith(COMMENT) ? Number(comment.slice(COMMENT.length)) : undefined;
    if (name && owner !== undefined && stat(owner) === undefined) removeUser(name);
  }
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    `${COMMENT}${process.pid}`,
    USER,
  ]);
  uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  process.once('exit', () => removeUser(USER)); // also when the worker is ended before the hooks run
});
test.after.always(() => removeUser(USER));

/** Runs a command as the throwaway user. */
function asUser(command: string, input?: string): void {
  execFileSync('runuser', ['-u', USER, '--', 'sh', '-c', command], { input: input ?? '' });
}

/** A sticky directory everyone can write, as /tmp is, removed with what the test started. */
function sharedDirectory(t: Parameters<typeof workspace>[0], marker: string): string {
  const directory = workspace(t, marker);
  chmodSync(directory, 0o1777);
  return directory;
}

/** A keepalive that is SIGKILLed when the test ends, whatever failed. */
function started(
  t: Parameters<typeof workspace>[0],
  args: readonly string[],
  options?: ConstructorParameters<typeof Keepalive>[1],
): Keepalive {
  const keepalive = new Keepalive(args, options);
  t.teardown(() => keepalive.signal('SIGKILL'));
  return keepalive;
}

/** keepalive to its end, SIGKILLed (and the test failed) if it takes longer than `withinMs`. */
async function runWithin(
  args: readonly string[],
  withinMs = 15_000,
): Promise<Ended & { stderr: string; stdout: string }> {
  const keepalive = new Keepalive(args);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      keepalive.signal('SIGKILL'); // its child may still hold the pipes: do not wait for them
      reject(
        new Error(
          `keepalive ${args.join(' ').slice(0, 200)} still running after ${withinMs}ms (blocked?); stderr: ${keepalive.stderr.text}`,
        ),
      );
    }, withinMs);
  });
  try {
    const ended = await Promise.race([keepalive.ended, late]);
    return { ...ended, stderr: keepalive.stderr.text, stdout: keepalive.stdout.text };
  } finally {
    clearTimeout(timer);
  }
}

const stat = (pid: number): { state: string; startTime: number } | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: Number(fields[19]) };
  } catch {
    return undefined;
  }
};
const running = (pid: number): boolean => {
  const now = stat(pid);
  return now !== undefined && now.state !== 'Z' && now.state !== 'X';
};
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A root process in a group of its own, that nobody but the test may signal. */
async function victim(
  t: Parameters<typeof workspace>[0],
): Promise<{ pid: number; startTime: number }> {
  const process_ = spawn('sleep', [uniqueMarker()], { stdio: 'ignore', detached: true });
  t.teardown(() => process_.kill('SIGKILL'));
  await once(process_, 'spawn');
  const pid = process_.pid as number;
  return { pid, startTime: (stat(pid) as { startTime: number }).startTime };
}

/** A state record as keepalive writes it, naming what the caller says. */
function record(pidfile: string, more: Record<string, unknown>): string {
  return `${JSON.stringify({
    version: 1,
    pidfile,
    name: 'app',
    supervisor: { pid: 999_999, startTime: 1 },
    bootId: BOOT_ID,
    startedAt: '2026-01-01T00:00:00.000Z',
    phase: 'running',
    child: null,
    leftovers: [],
    restarts: 0,
    lastExit: null,
    lastStatusText: '',
    stopSignal: 'SIGKILL',
    killTimeoutMs: 1000,
    ...more,
  })}\n`;
}

test('a FILE.state another user planted is not believed: no takeover, no signal, status 4, and it names the file', async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  const pidfile = join(directory, 'app.pid');
  const target = await victim(t);
  const child = {
    pid: target.pid,
    startTime: target.startTime,
    startedAt: '2026-01-01T00:00:01.000Z',
  };
  // Two plants: the victim as the child left running, and as the live supervisor.
  for (const planted of [
    record(pidfile, { child }),
    record(pidfile, { supervisor: { pid: target.pid, startTime: target.startTime } }),
  ]) {
    asUser(`umask 022; cat > '${pidfile}.state'`, planted);
    const why = `${pidfile}.state: it is owned by uid ${uid} (${USER}), neither keepalive's user (uid 0 (root)) nor root`;
    const [start, stop, status] = await Promise.all([
      runWithin(['--pidfile', pidfile, '--', 'sleep', marker]),
      runWithin(['stop', '--pidfile', pidfile]),
      runWithin(['status', '--pidfile', pidfile]),
    ]);
    t.is(start.status, 1);
    t.true(start.stderr.startsWith(`keepalive: cannot take ${pidfile}: ${why}`), start.stderr);
    t.is(stop.status, 4);
    t.true(stop.stderr.includes(why), stop.stderr);
    t.is(status.status, 4);
    t.true(status.stdout.startsWith(`unknown: ${why}`), status.stdout);
    t.true(running(target.pid), 'the victim was never signalled');
    t.deepEqual(children(marker), [], 'nothing started');
    t.deepEqual(
      readdirSync(directory),
      ['app.pid.state'],
      'the planted file is left as it was, nothing added',
    );
    rmSync(`${pidfile}.state`);
  }
});

test('every name beside FILE is checked: another user owns it, others can write it, or it is no regular file', async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  const pidfile = join(directory, 'app.pid');
  const cases: Array<[string, string, RegExp]> = [
    [pidfile, `umask 022; echo 1 > '${pidfile}'`, /it is owned by uid \d+ \(kaf\d+\)/],
    [`${pidfile}.lock`, `umask 022; : > '${pidfile}.lock'`, /it is owned by uid \d+/],
    [`${pidfile}.stop`, `umask 022; echo 1 > '${pidfile}.stop'`, /it is owned by uid \d+/],
    [`${pidfile}.restart`, `umask 022; echo 1 > '${pidfile}.restart'`, /it is owned by uid \d+/],
  ];
  for (const [path, plant, why] of cases) {
    asUser(plant);
    const result = await runWithin(['--pidfile', pidfile, '--', 'sleep', marker]);
    t.is(result.status, 1, path);
    t.regex(
      result.stderr,
      new RegExp(
        `^keepalive: cannot take ${pidfile}: ${path.replace(/\./g, '\\.')}: ${why.source}`,
      ),
      path,
    );
    rmSync(path);
  }
  // Root's own file, but one its group or anyone may write: not what keepalive writes either.
  writeFileSync(`${pidfile}.state`, record(pidfile, {}), { mode: 0o666 });
  chmodSync(`${pidfile}.state`, 0o666);
  const writable = await runWithin(['status', '--pidfile', pidfile]);
  t.is(writable.status, 4);
  t.is(
    writable.stdout,
    `unknown: ${pidfile}.state: any user can write it: keepalive believes only files of its own user or root that no one else can write (remove it if it is not in use)\n`,
  );
  t.deepEqual(children(marker), []);
});

test('a FILE.stop another user plants is ignored by the running supervisor, with one line', async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  const pidfile = join(directory, 'app.pid');
  const keepalive = started(t, ['--pidfile', pidfile, '--', 'sleep', marker]);
  const child = await keepalive.childPid();
  asUser(`umask 022; echo ${keepalive.pid} > '${pidfile}.stop'`);
  const ignored = await keepalive.stderr.next(/^keepalive: ignoring .*app\.pid\.stop: (.*)$/);
  t.regex(ignored[1] ?? '', new RegExp(`^it is owned by uid ${uid} \\(${USER}\\)`));
  t.true(
    running(child) && running(keepalive.pid),
    'not stopped by someone who could not have stopped it',
  );
  rmSync(`${pidfile}.stop`);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('a record naming a live unrelated process as the supervisor proves nothing: taken over, that process untouched', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const target = await victim(t);
  // Root's own file (as if copied by root), so only the proof by /proc is left to catch it.
  writeFileSync(`${pidfile}.state`, record(pidfile, { supervisor: target }), { mode: 0o644 });
  writeFileSync(pidfile, `${target.pid}\n`, { mode: 0o644 });
  const status = await runWithin(['status', '--pidfile', pidfile]);
  t.is(status.status, 3, status.stdout);
  t.regex(
    status.stdout,
    new RegExp(
      `^not running: stale ${pidfile}: pid ${target.pid} is no longer keepalive but another program\n`,
    ),
  );
  const keepalive = started(t, ['--pidfile', pidfile, '--', 'sleep', marker]);
  await keepalive.childPid();
  t.is(
    keepalive.stderr.all[0],
    `keepalive: taking over ${pidfile}: pid ${target.pid} is no longer keepalive but another program`,
  );
  const stop = await runWithin(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 0, stop.stderr);
  await keepalive.ended;
  t.true(running(target.pid), 'never signalled');
});

test("another user's `status` knows root's keepalive by the kernel's lock table", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  chmodSync(directory, 0o755);
  const pidfile = join(directory, 'app.pid');
  const keepalive = started(t, ['--pidfile', pidfile, '--', 'sleep', marker]);
  const child = await keepalive.childPid();
  // They may read /proc/locks and root's files, not root's descriptors in /proc/<pid>/fd.
  const command = [process.execPath, CLI, 'status', '--pidfile', pidfile, '--json'];
  const status = spawnSync('runuser', ['-u', USER, '--', ...command], { encoding: 'utf8' });
  t.is(status.status, 0, status.stdout + status.stderr);
  const report = JSON.parse(status.stdout) as unknown;
  t.like(report, { state: 'running', supervisorPid: keepalive.pid, childPid: child });
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('a recorded child that does not carry KEEPALIVE_PID is reported and left alone', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const target = await victim(t);
  const child = {
    pid: target.pid,
    startTime: target.startTime,
    startedAt: '2026-01-01T00:00:01.000Z',
  };
  writeFileSync(`${pidfile}.state`, record(pidfile, { child }), { mode: 0o644 });
  const stop = await runWithin(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 3);
  t.true(
    stop.stderr.startsWith(
      `keepalive: app[${target.pid}], named in ${pidfile}.state, does not carry KEEPALIVE_PID of the keepalive that started it: not proven to be keepalive's, left alone\n`,
    ),
    stop.stderr,
  );
  t.false(stop.stderr.includes('stopped app'), stop.stderr);
  t.true(running(target.pid), 'stop never signalled it');

  writeFileSync(`${pidfile}.state`, record(pidfile, { child }), { mode: 0o644 });
  const keepalive = started(t, ['--pidfile', pidfile, '--', 'sleep', marker]);
  await keepalive.childPid();
  t.regex(
    keepalive.stderr.all[1] ?? '',
    new RegExp(`^keepalive: app\\[${target.pid}\\], named in .*, does not carry KEEPALIVE_PID`),
  );
  t.true(running(target.pid), 'the takeover never signalled it');
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test("a pidfile directory others can write without the sticky bit is refused: they could remove keepalive's lock", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const open = join(directory, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const result = await runWithin(['--pidfile', join(open, 'app.pid'), '--', 'sleep', marker]);
  t.is(result.status, 1);
  t.is(
    result.stderr,
    `keepalive: cannot take ${join(open, 'app.pid')}: ${open}: any user can write it and it has no sticky bit: use a directory only keepalive's user or root can write, or one with the sticky bit (as /tmp)\n`,
  );
  t.deepEqual(readdirSync(open), []);
  t.deepEqual(children(marker), []);
});

test("a directory above FILE's that another user owns, or their link on the way, is refused: they could swap the subtree", async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  // Theirs, holding a directory of root's that looks fine on its own: they can rename it away and
  // put their own (with a planted FILE.state) in its place between any two of keepalive's steps.
  const theirs = join(directory, 'theirs');
  mkdirSync(join(theirs, 'run'), { recursive: true });
  chownSync(theirs, uid, uid);
  const below = join(theirs, 'run', 'app.pid');
  const refused = await runWithin(['--pidfile', below, '--', 'sleep', marker]);
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    `keepalive: cannot take ${below}: ${theirs}: it is owned by uid ${uid} (${USER}), neither keepalive's user (uid 0 (root)) nor root: use a directory only keepalive's user or root can write, or one with the sticky bit (as /tmp)\n`,
  );
  t.is((await runWithin(['status', '--pidfile', below])).status, 4);
  t.deepEqual(readdirSync(join(theirs, 'run')), []);

  // Their symbolic link in the sticky directory, to a directory of root's: they may repoint it at
  // will.
  const good = join(directory, 'good');
  mkdirSync(good);
  asUser(`ln -s '${good}' '${join(directory, 'link')}'`);
  const linked = join(directory, 'link', 'app.pid');
  const viaLink = await runWithin(['--pidfile', linked, '--', 'sleep', marker]);
  t.is(viaLink.status, 1);
  t.regex(
    viaLink.stderr,
    new RegExp(
      `^keepalive: cannot take ${linked}: ${join(directory, 'link')}: it is owned by uid ${uid} `,
    ),
  );

  // A log file below their directory is not appended to by root either.
  const log = join(theirs, 'run', 'app.log');
  const logged = await runWithin(['--log-file', log, '--', 'sleep', marker]);
  t.is(logged.status, 1);
  t.regex(
    logged.stderr,
    new RegExp(
      `^keepalive: cannot open --log-file ${log}: ${theirs}: it is owned by uid ${uid} .*; pass --log-file-shared if that is meant\n$`,
    ),
  );
  t.deepEqual(readdirSync(join(theirs, 'run')), []);
  t.deepEqual(children(marker), []);

  // Root's own link to root's directory is fine (as /var/run -> /run).
  symlinkSync(good, join(directory, 'rootlink'));
  const fine = started(t, [
    '--pidfile',
    join(directory, 'rootlink', 'app.pid'),
    '--',
    'sleep',
    marker,
  ]);
  await eventually('the child', () => children(marker).length === 1);
  // The record may be in the middle of a rewrite (its temporary file, renamed over it at once).
  t.deepEqual(
    readdirSync(good)
      .filter((name) => !name.endsWith('.tmp'))
      .sort(),
    ['app.pid', 'app.pid.lock', 'app.pid.state'],
  );
  fine.signal('SIGTERM');
  t.is((await fine.ended).status, 143);
});

test('a FIFO at FILE, FILE.state or --log-file never blocks: refused at once (status 1; status says 4)', async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  const pidfile = join(directory, 'app.pid');
  for (const path of [pidfile, `${pidfile}.state`]) {
    execFileSync('mkfifo', ['-m', '644', path]);
    const [start, status, stop] = await Promise.all([
      runWithin(['--pidfile', pidfile, '--', 'sleep', marker]),
      runWithin(['status', '--pidfile', pidfile]),
      runWithin(['stop', '--pidfile', pidfile]),
    ]);
    t.is(start.status, 1, path);
    t.is(start.stderr, `keepalive: cannot take ${pidfile}: ${path}: it is a FIFO\n`);
    t.is(status.status, 4);
    t.is(status.stdout, `unknown: ${path}: it is a FIFO\n`);
    t.is(stop.status, 4);
    rmSync(path);
  }
  const log = join(directory, 'app.log');
  execFileSync('mkfifo', ['-m', '600', log]);
  const [foreground, detached] = await Promise.all([
    runWithin(['--log-file', log, '--', 'sleep', marker]),
    runWithin(['--pidfile', pidfile, '--detach', '--log-file', log, '--', 'sleep', marker]),
  ]);
  t.is(foreground.status, 1);
  t.is(foreground.stderr, `keepalive: cannot open --log-file ${log}: ${log}: it is a FIFO\n`);
  t.is(detached.status, 1);
  t.is(detached.stderr, `keepalive: cannot open --log-file ${log}: ${log}: it is a FIFO\n`);
  t.deepEqual(children(marker), []);
});

test("another user's --log-file is not written, unless --log-file-shared says so", async (t) => {
  const marker = uniqueMarker();
  const directory = sharedDirectory(t, marker);
  const pidfile = join(directory, 'app.pid');
  const log = join(directory, 'app.log');
  asUser(`umask 000; : > '${log}'`);
  const refused = await runWithin([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    log,
    '--',
    'sh',
    '-c',
    `echo secret; exec sleep ${marker}`,
  ]);
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    `keepalive: cannot open --log-file ${log}: ${log}: it is owned by uid ${uid} (${USER}), neither keepalive's user (uid 0 (root)) nor root; pass --log-file-shared if that is meant\n`,
  );
  t.deepEqual(children(marker), []);
  t.is(readFileSync(log, 'utf8'), '');

  const shared = await runWithin([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    log,
    '--log-file-shared',
    '--',
    'sh',
    '-c',
    `echo secret; exec sleep ${marker}`,
  ]);
  t.is(shared.status, 0, shared.stderr);
  await eventually('the child', () => children(marker).length === 1);
  t.is((await runWithin(['stop', '--pidfile', pidfile])).status, 0);
  t.regex(readFileSync(log, 'utf8'), /secret/);
  t.is(statSync(log).uid, uid, 'still theirs');
});

test('a zombie is not a running process: status and stop do not name a <defunct> child as left running', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  // After the SIGKILLs below the child's parent is this subreaper, which never reaps it.
  const holder = started(t, ['--pidfile', pidfile, '--', 'sleep', marker], {
    wrapper: [process.execPath, fixture('subreaper-holder.mjs')],
  });
  t.teardown(() => holder.signal('SIGTERM'));
  const supervisor = Number((await holder.stdout.next(/^keepalive (\d+)$/))[1]);
  const child = await holder.childPid();
  await eventually('the record naming the child', () =>
    readFileSync(`${pidfile}.state`, 'utf8').includes(`"pid": ${child}`),
  );
  process.kill(supervisor, 'SIGKILL');
  await eventually('keepalive gone', () => stat(supervisor) === undefined);
  process.kill(child, 'SIGKILL');
  await eventually('the child a zombie', () => stat(child)?.state === 'Z');

  const status = await runWithin(['status', '--pidfile', pidfile]);
  t.is(status.status, 3);
  t.is(
    status.stdout,
    `not running: stale ${pidfile}: keepalive[${supervisor}] is gone\nrestarts: 0\n`,
  );
  const stop = await runWithin(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 3);
  t.is(
    stop.stderr,
    `keepalive: not running: stale ${pidfile} (keepalive[${supervisor}] is gone); removed the stale files\n`,
  );
  t.is(stat(child)?.state, 'Z', 'still a zombie: it was judged, not waited for');
});

test('a full disk leaves no temporary files and no state of a claim that failed; what is written reads back', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const disk = join(directory, 'disk');
  mkdirSync(disk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', disk]);
  t.teardown(() => {
    killMarked(marker);
    spawnSync('umount', ['-l', disk]);
  });
  const pidfile = join(disk, 'app.pid');
  const filler = join(disk, 'filler');
  const fill = (freePages: number): void => {
    spawnSync('sh', ['-c', `cat /dev/zero > '${filler}' 2>/dev/null`]); // up to ENOSPC
    if (freePages > 0) execFileSync('truncate', ['-s', `-${freePages * 4096}`, filler]);
  };
  const listing = (): string[] => readdirSync(disk).sort();

  fill(0);
  const full = await runWithin(['--pidfile', pidfile, '--', 'sleep', marker]);
  t.is(full.status, 1);
  t.regex(full.stderr, /^keepalive: cannot take .*app\.pid: no space left on the device/);
  t.deepEqual(listing(), ['filler'], 'no *.tmp left behind');

  fill(1); // room for FILE.state, none for FILE: the claim fails half way
  const half = await runWithin(['--pidfile', pidfile, '--', 'sleep', marker]);
  t.is(half.status, 1);
  t.deepEqual(listing(), ['filler'], 'no FILE.state of a claim that failed');
  t.deepEqual(children(marker), []);

  rmSync(filler);
  const keepalive = started(t, [
    '--pidfile',
    pidfile,
    '--',
    'sh',
    '-c',
    `echo STATUS=$(head -c 3000 /dev/zero | tr '\\0' x) >&3; exec sleep ${marker}`,
  ]);
  await keepalive.childPid();
  const status = await runWithin(['status', '--pidfile', pidfile, '--json']);
  t.is(status.status, 0, 'written, and read back');
  fill(0);
  const stop = await runWithin(['stop', '--pidfile', pidfile]);
  t.is(stop.status, 0, stop.stderr); // FILE.stop cannot be written: SIGTERM does it
  await keepalive.ended;
  t.deepEqual(listing(), ['filler'], 'neither FILE.stop.<pid>.tmp nor FILE.state.<pid>.tmp');
});

test('--name is bounded: a name too long for the record is refused before anything is written', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const result = await runWithin([
    '--pidfile',
    pidfile,
    '--name',
    'n'.repeat(70_000),
    '--',
    'sleep',
    marker,
  ]);
  t.is(result.status, 2);
  t.is(
    result.stderr,
    `keepalive: --name "${'n'.repeat(40)}... (70000 characters)": expected a name of 1 to 256 characters\n`,
  );
  t.deepEqual(readdirSync(directory), []);
  t.deepEqual(children(marker), []);
});

test('status shows texts from records and children without their control characters', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const ESC = '\u001b';
  const planted = record(pidfile, {
    name: `app${ESC}]0;owned${'\u0007'}`,
    lastExit: {
      pid: 5,
      outcome: { kind: 'exited', code: 1 },
      status: 1,
      words: `app[5] exited ${ESC}[2J${ESC}[31mwith code 1`,
      at: '2026-01-01T00:00:02.000Z',
    },
    lastStatusText: `ok${ESC}[8m hidden\r\u009b`,
  });
  writeFileSync(`${pidfile}.state`, planted, { mode: 0o644 });
  const stale = await runWithin(['status', '--pidfile', pidfile]);
  t.is(stale.status, 3);
  t.is(
    stale.stdout,
    `not running: stale ${pidfile}: keepalive[999999] is gone\nrestarts: 0\nlast exit: app[5] exited [2J[31mwith code 1\nstatus text: ok[8m hidden\n`,
  );
  rmSync(`${pidfile}.state`);

  const keepalive = started(t, [
    '--pidfile',
    pidfile,
    '--',
    'sh',
    '-c',
    `printf 'STATUS=red \\033[31mtext\\n' >&3; exec sleep ${marker}`,
  ]);
  await keepalive.childPid();
  let shown = '';
  // The state file takes STATUS= texts at most every half second: ask until it shows.
  for (let tries = 0; tries < 40 && !shown.includes('status text:'); tries++)
    shown = (await runWithin(['status', '--pidfile', pidfile])).stdout;
  t.regex(shown, /\nstatus text: red +\[31mtext\n$/);
  t.false(shown.includes(ESC));
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('a keepalive SIGKILLed mid-sweep: the record names what is swept, and the next one stops it before its own child', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  // The leader exits; its worker, in its group, ignores SIGTERM: the sweep waits the kill timeout.
  const script = `trap "" TERM; sleep ${uniqueMarker()} & echo "worker $!"; sleep 0.3`;
  const first = started(t, [
    '--pidfile',
    pidfile,
    '--restart',
    'never',
    '--kill-timeout',
    '60s',
    '--',
    'sh',
    '-c',
    script,
  ]);
  const worker = Number((await first.stdout.next(/^worker (\d+)$/))[1]);
  t.teardown(() => {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // Stopped, as it should be.
    }
  });
  const read = (): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(readFileSync(`${pidfile}.state`, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  await eventually(
    'the sweep under way',
    () => read()?.['phase'] === 'stopping' && read()?.['child'] === null,
  );
  await eventually(
    'the record naming the swept worker',
    () => JSON.stringify(read()?.['sweeping'] ?? []).includes(`"pid":${worker}`),
    3000,
  );
  first.signal('SIGKILL');
  await once(first.process, 'exit');
  t.true(running(worker), 'the worker outlives its keepalive');

  const second = started(t, ['--pidfile', pidfile, '--kill-timeout', '1s', '--', 'sleep', marker]);
  await second.childPid();
  t.false(running(worker), 'gone before the new child started: never two business processes');
  t.deepEqual(second.stderr.all.slice(0, 3), [
    `keepalive: taking over ${pidfile}: keepalive[${first.pid}] is gone`,
    `keepalive: stopping sh[${worker}], left running by a keepalive that was killed`,
    `keepalive: sh[${worker}] still running after SIGTERM: sending SIGKILL`,
  ]);
  second.signal('SIGTERM');
  await second.ended;
});
