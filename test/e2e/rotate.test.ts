// `keepalive rotate --pidfile FILE [NAME]`, a set's output-dir, and --detach with --output, end to
// end through the installed command on real files.
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseRecord, type InstanceRecord } from '../../src/core/instance-state.js';
import { fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { children, eventually, killMarked, uniqueMarker, workspace } from '../helpers/proc.js';

const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
const textOf = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

const readRecord = (pidfile: string): InstanceRecord | undefined => {
  const parsed = parseRecord(textOf(`${pidfile}.state`));
  return parsed.ok ? parsed.value : undefined;
};

/** FILE's rotated names, oldest first, then FILE: the order its lines were written in. */
function inOrder(file: string, directory: string): string[] {
  const base = file.slice(directory.length + 1);
  const rotated = readdirSync(directory)
    .flatMap((name) => {
      const number = new RegExp(`^${base.replace('.', '\\.')}\\.(\\d+)$`).exec(name)?.[1];
      return number === undefined ? [] : [Number(number)];
    })
    .sort((a, b) => b - a);
  return [...rotated.map((number) => `${file}.${number}`), file];
}

test('keepalive rotate while the child floods: FILE.1 holds the earlier lines, none lost or twice', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const output = join(directory, 'out.log');
  const stop = join(directory, 'stop');
  const keepalive = new Keepalive([
    '--pidfile',
    pidfile,
    '--output',
    output,
    '--output-lossless',
    '--output-max-size',
    '1GB',
    '--output-keep',
    '10',
    '--',
    process.execPath,
    fixture('numbered.mjs'),
    stop,
    marker,
  ]);
  t.teardown(() => keepalive.signal('SIGKILL'));
  await eventually('the first lines in FILE', () => sizeOf(output) > 100_000);
  for (let rotation = 1; rotation <= 3; rotation++) {
    const rotated = await runKeepalive(['rotate', '--pidfile', pidfile]);
    t.is(rotated.status, 0, rotated.stderr);
    t.is(rotated.stderr, `keepalive: rotated ${output}\n`);
    t.true(sizeOf(`${output}.1`) > 0, `rotation ${rotation}: FILE.1 holds what FILE held`);
    await eventually('more lines in the new FILE', () => sizeOf(output) > 10_000);
  }
  writeFileSync(stop, '');
  const last = await eventually('the end line', () => /^end (\d+)$/m.exec(textOf(output))?.[1]);
  const files = inOrder(output, directory);
  t.deepEqual(files.slice(-4), [`${output}.3`, `${output}.2`, `${output}.1`, output]);
  const lines = files.map(textOf).join('').split('\n');
  t.is(lines.pop(), '', 'every file ends with a whole line');
  t.is(lines.pop(), `end ${last}`);
  t.is(lines.length, Number(last), 'as many lines as the child wrote');
  const wrong = lines.findIndex((line, index) => line !== `line ${index + 1}`);
  t.is(wrong, -1, `line ${wrong + 1} is ${JSON.stringify(lines[wrong])}`);
  const first = (file: string): number => Number(/^line (\d+)/.exec(textOf(file))?.[1]);
  t.true(first(`${output}.2`) < first(`${output}.1`), 'FILE.1 holds later lines than FILE.2');
  t.true(first(`${output}.1`) < first(output), 'FILE holds the latest');
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test("SIGHUP is the child's: forwarded to it, and nothing is rotated", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const output = join(directory, 'out.log');
  const keepalive = new Keepalive([
    '--pidfile',
    pidfile,
    '--output',
    output,
    '--',
    'sh',
    '-c',
    'trap "echo got-hup" HUP; echo ready; while :; do sleep 0.1; done',
    marker,
  ]);
  t.teardown(() => keepalive.signal('SIGKILL'));
  await eventually('ready in FILE', () => textOf(output).includes('ready\n'));
  keepalive.signal('SIGHUP');
  await eventually('the child saying it got SIGHUP', () => textOf(output).includes('got-hup\n'));
  // (Its `sleep` is in the child's group, which gets SIGHUP too: sh may say "Hangup" of it.)
  t.regex(textOf(output), /^ready\n/);
  t.deepEqual(
    readdirSync(directory).filter((name) => name.startsWith('out.log')),
    ['out.log'],
  );
  t.is(readRecord(pidfile)?.rotation, undefined);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('keepalive rotate: not running is 3; with no output file, 1 and why', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const absent = await runKeepalive(['rotate', '--pidfile', pidfile]);
  t.is(absent.status, 3);
  t.is(absent.stderr, `keepalive: not running (no ${pidfile})\n`);

  const keepalive = new Keepalive(['--pidfile', pidfile, '--', 'sleep', marker]);
  t.teardown(() => keepalive.signal('SIGKILL'));
  await keepalive.childPid();
  await eventually('the record', () => readRecord(pidfile)?.phase === 'running');
  const none = await runKeepalive(['rotate', '--pidfile', pidfile]);
  t.is(none.status, 1);
  t.is(
    none.stderr,
    `keepalive: nothing to rotate: keepalive[${keepalive.pid}] writes no output file ` +
      '(--output, or output: or output-dir: in its config file)\n',
  );
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('a set with output-dir: DIR/NAME.log each, not stdout; rotate NAME rotates only its file; an unknown NAME is 2', async (t) => {
  const web = uniqueMarker();
  const worker = uniqueMarker();
  const directory = workspace(t, web);
  t.teardown(() => killMarked(worker));
  const config = join(directory, 'keepalive.yaml');
  writeFileSync(
    config,
    [
      'output-dir: logs',
      'processes:',
      `  web: { command: "echo web-says; echo web-err >&2; exec sleep ${web}" }`,
      `  worker: { command: "echo worker-says; exec sleep ${worker}" }`,
      '',
    ].join('\n'),
  );
  const pidfile = join(directory, 'set.pid');
  const log = join(directory, 'log');
  const logs = join(directory, 'logs');
  const started = await runKeepalive([
    '-c',
    config,
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    log,
  ]);
  t.is(started.status, 0, started.stderr);
  t.teardown(() => runKeepalive(['stop', '--pidfile', pidfile]));
  await eventually('each its own lines', () => {
    const [webText, workerText] = [textOf(join(logs, 'web.log')), textOf(join(logs, 'worker.log'))];
    return webText.includes('web-err') && webText.includes('web-says') && workerText !== '';
  });
  t.is(textOf(join(logs, 'worker.log')), 'worker-says\n');
  t.is(mode(logs), '750');
  t.false(textOf(log).includes('-says'), "the processes' lines are not in keepalive's log");
  await eventually(
    'both running',
    () => children(web).length === 1 && children(worker).length === 1,
  );

  const one = await runKeepalive(['rotate', '--pidfile', pidfile, 'web']);
  t.is(one.status, 0, one.stderr);
  t.is(one.stderr, `keepalive: rotated ${join(logs, 'web.log')}\n`);
  t.regex(textOf(join(logs, 'web.log.1')), /web-says/);
  t.false(existsSync(join(logs, 'worker.log.1')), "worker's file is left as it is");
  t.is(textOf(join(logs, 'worker.log')), 'worker-says\n');
  t.regex(textOf(log), /rotate of web requested by `keepalive rotate`/);

  const unknown = await runKeepalive(['rotate', '--pidfile', pidfile, 'wbe']);
  t.is(unknown.status, 2);
  t.is(unknown.stderr, `keepalive: no process "wbe" in ${pidfile}; its processes: web, worker\n`);

  const all = await runKeepalive(['rotate', '--pidfile', pidfile]);
  t.is(all.status, 0, all.stderr);
  t.regex(textOf(join(logs, 'worker.log.1')), /^worker-says\n$/);
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
});

test("--detach with --output: the command's lines go to FILE, keepalive's to --log-file", async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const log = join(directory, 'log');
  const output = join(directory, 'out.log');
  const started = await runKeepalive([
    '--pidfile',
    pidfile,
    '--detach',
    '--log-file',
    log,
    '--output',
    output,
    '--',
    'sh',
    '-c',
    'echo to-stdout; echo to-stderr >&2; exec sleep "$0"',
    marker,
  ]);
  t.is(started.status, 0, started.stderr);
  t.teardown(() => runKeepalive(['stop', '--pidfile', pidfile]));
  await eventually('both lines in FILE', () => textOf(output).includes('to-stderr'));
  t.regex(textOf(output), /to-stdout/);
  t.false(textOf(log).includes('to-std'), textOf(log));
  t.regex(textOf(log), /started/);
  const stopped = await runKeepalive(['stop', '--pidfile', pidfile]);
  t.is(stopped.status, 0, stopped.stderr);
});

test('a symlink planted as DIR/NAME.log is left alone, with one line', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const logs = join(directory, 'logs');
  mkdirSync(logs, { mode: 0o750 });
  const target = join(directory, 'target');
  writeFileSync(target, 'precious\n');
  symlinkSync(target, join(logs, 'web.log'));
  const config = join(directory, 'keepalive.yaml');
  writeFileSync(
    config,
    'output-dir: logs\nrestart: never\nprocesses:\n  db: { command: "echo db-ran; sleep 1" }\n' +
      '  web: { command: "echo web-says", depends-on: { db: started } }\n',
  );
  const result = await runKeepalive(['-c', config]);
  t.is(result.status, 1, result.stderr);
  t.is(textOf(target), 'precious\n');
  t.true(lstatSync(join(logs, 'web.log')).isSymbolicLink());
  // One line, and nothing started: every file is checked before the first process starts.
  t.is(
    result.stderr,
    `keepalive: cannot open --output ${join(logs, 'web.log')}: it is a symbolic link\n`,
  );
  t.is(result.stdout, '');
});

test('--check names each output file, and makes nothing', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const config = join(directory, 'keepalive.yaml');
  writeFileSync(
    config,
    'output-dir: logs\nprocesses:\n  web: { command: x }\n  db: { command: y, output: db.out }\n',
  );
  const result = await runKeepalive(['-c', config, '--check']);
  t.is(result.status, 0, result.stderr);
  t.is(
    result.stdout,
    `web  starts at once; output to ${join(directory, 'logs', 'web.log')}\n` +
      `db   starts at once; output to ${join(directory, 'db.out')}\n`,
  );
  t.false(existsSync(join(directory, 'logs')));
});
