// A set's output with real processes: whole prefixed lines through a real pipe, none lost, none
// torn or mixed, each process's order kept; the last line of a crash; a grandchild holding the pipe.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { WriteStream } from 'node:tty';
import test, { type ExecutionContext } from 'ava';
import { resolveOptions } from '../../src/options.js';
import { prefixedOutput } from '../../src/output/prefixed.js';
import type { OutputTarget } from '../../src/output/types.js';
import { startRun, type Run } from '../../src/run.js';
import { running, uniqueMarker } from '../helpers/proc.js';

async function start(
  t: ExecutionContext,
  name: string,
  script: string,
  output: OutputTarget,
): Promise<Run> {
  const options = { ...resolveOptions({ command: 'sh', args: ['-c', script], name }), output };
  const started = await startRun({
    options,
    env: process.env,
    restarts: 0,
    now: () => performance.now(),
    oomKills: () => undefined,
    emit: (() => true) as never,
    ownsOrphans: false,
  });
  if (!started.started) throw new Error('not started');
  const { run } = started;
  t.teardown(() => {
    run.killNow();
  });
  return run;
}

/** A real pipe into `cat > file`, the way a container's log or `| less` reads keepalive. */
function pipeToFile(t: ExecutionContext): { sink: Writable; text: () => Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-output-'));
  const path = join(dir, 'out');
  const fd = openSync(path, 'w');
  const cat: ChildProcess = spawn('cat', [], { stdio: ['pipe', fd, 'inherit'] });
  closeSync(fd);
  const ended = new Promise((resolve) => cat.once('exit', resolve));
  t.teardown(() => {
    cat.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = cat.stdin as Writable;
  return {
    sink,
    text: async () => {
      sink.end();
      await ended;
      return readFileSync(path, 'latin1');
    },
  };
}

/** Numbered lines of many lengths (1 to 300 bytes, some longer than a pipe's atomic write). */
const numbered = (name: string, count: number): string =>
  `awk 'BEGIN { pad = sprintf("%4000s", ""); for (i = 1; i <= ${count}; i++) ` +
  `printf "${name} %d %s\\n", i, substr(pad, 1, (i * 37) % 300 + (i % 100 == 0 ? 3000 : 0)) }'`;

test('4 processes flooding at once: every line whole, prefixed, in order, none lost', async (t) => {
  const names = ['web', 'worker', 'db', 'proxy-long-name'];
  const count = 20_000;
  const { sink, text } = pipeToFile(t);
  const target = await prefixedOutput({ names, stdout: sink, stderr: new PassThrough(), color: 0 });
  const runs = await Promise.all(
    names.map((name) => start(t, name, `${numbered(name, count)}; exit 0`, target(name))),
  );
  await Promise.all(runs.map(async (run) => (await run.exited, await run.swept())));
  const width = Math.max(...names.map((name) => name.length));
  const next = new Map(names.map((name) => [name, 1]));
  const lines = (await text()).split('\n');
  t.is(lines.pop(), '');
  t.is(lines.length, names.length * count);
  for (const line of lines) {
    // "name   | name N spaces": the prefix and the line's own name agree, the numbers follow on.
    const match = /^(\S+) *\| (\S+) (\d+) ( *)$/.exec(line);
    if (!match) return t.fail(`a torn or mixed line: ${JSON.stringify(line.slice(0, 200))}`);
    const [, prefix, own, number, pad] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    t.is(line.indexOf('|'), width + 1);
    if (prefix !== own) return t.fail(`${own}'s line under ${prefix}'s name`);
    const n = Number(number);
    if (next.get(own) !== n) return t.fail(`${own}: line ${n} where ${next.get(own)} was due`);
    if (pad.length !== ((n * 37) % 300) + (n % 100 === 0 ? 3000 : 0))
      return t.fail(`${own} ${n}: its length changed`);
    next.set(own, n + 1);
  }
  t.deepEqual(
    [...next.values()],
    names.map(() => count + 1),
  );
});

test('a crashing child: its last line without "\\n" is written, before the exit is told', async (t) => {
  const out = new PassThrough();
  const err = new PassThrough();
  const written: string[] = [];
  out.on('data', (chunk: Buffer) => written.push(`out:${chunk.toString()}`));
  err.on('data', (chunk: Buffer) => written.push(`err:${chunk.toString()}`));
  const target = await prefixedOutput({ names: ['app'], stdout: out, stderr: err, color: 0 });
  const run = await start(
    t,
    'app',
    'echo starting; printf "fatal: no config" >&2; kill -SEGV $$',
    target('app'),
  );
  const exit = await run.exited;
  t.is(exit.facts.started && exit.facts.signal, 'SIGSEGV');
  t.deepEqual(written, ['out:app | starting\n', 'err:app | fatal: no config\n']);
  await run.swept();
});

test('a grandchild holding stdout open does not hold the run: the sweep ends it', async (t) => {
  const marker = uniqueMarker();
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const target = await prefixedOutput({ names: ['app'], stdout: out, stderr: out, color: 0 });
  const run = await start(
    t,
    'app',
    `(echo from the grandchild; exec sleep ${marker}) & sleep 0.2; echo bye; exit 0`,
    target('app'),
  );
  await run.exited;
  const swept = await run.swept();
  t.is(swept.left.length, 1);
  t.false(running().some((process_) => process_.argv.includes(marker)));
  t.true(text.includes('app | from the grandchild\n'));
  t.true(text.includes('app | bye\n'));
});

test('a daemon that left the tree keeps the pipe: the run ends anyway, its lines still come', async (t) => {
  const marker = uniqueMarker();
  const out = new PassThrough();
  let text = '';
  const late = new Promise<void>((resolve) =>
    out.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('late')) resolve();
    }),
  );
  const target = await prefixedOutput({ names: ['app'], stdout: out, stderr: out, color: 0 });
  const daemon = (): number | undefined =>
    running().find((process_) => process_.argv.join(' ').includes(marker))?.pid;
  t.teardown(() => {
    const pid = daemon();
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  });
  // setsid: its own session, and its parent gone before the sweep looks: out of the run's tree
  // (unless a cgroup holds the run, which finds it and ends it).
  const run = await start(
    t,
    'app',
    `setsid sh -c 'sleep 1.5; echo late; exec sleep ${marker}' & echo early; exit 0`,
    target('app'),
  );
  await run.exited;
  await run.swept();
  t.true(text.includes('app | early\n'));
  if (!daemon()) return;
  t.false(text.includes('late'));
  // Its pipes no longer keep the loop alive (nor would they keep keepalive from exiting): the test
  // does, while it waits.
  const alive = setInterval(() => {}, 1000);
  await late;
  clearInterval(alive);
  t.true(text.includes('app | late\n'));
});

test("a slow reader of keepalive's stdout makes the child wait; nothing is lost", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-output-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const done = join(dir, 'done');
  // Nobody reads it yet: the first batch fills it.
  const out = new PassThrough({ highWaterMark: 16 * 1024 });
  const target = await prefixedOutput({ names: ['app'], stdout: out, stderr: out, color: 0 });
  const run = await start(t, 'app', `${numbered('app', 20_000)}; touch ${done}`, target('app'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(existsSync(done), 'the child went on while nobody read');
  // What keepalive holds meanwhile: its stream's buffer and one batch, not the child's output.
  t.true(out.writableLength + out.readableLength < 512 * 1024, `${out.writableLength}`);
  let lines = 0;
  out.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  await run.exited;
  await run.swept();
  t.true(existsSync(done));
  t.is(lines, 20_000);
});

test("written() settles once keepalive's stream has written every line it was given", async (t) => {
  const out = new PassThrough({ highWaterMark: 1024 });
  const target = await prefixedOutput({ names: ['app'], stdout: out, stderr: out, color: 0 });
  const run = await start(t, 'app', 'seq 1 2000', target('app'));
  // Nobody reads yet: the stream fills and holds lines.
  await new Promise((resolve) => setTimeout(resolve, 200));
  let settled = false;
  const written = target.written().then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.false(settled);
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await run.exited;
  await run.swept();
  await written;
  t.is(text.split('\n').length, 2001);
});

test('colour: each name painted on a terminal, plain with NO_COLOR, padded to the longest', async (t) => {
  const tty = (): Writable & { isTTY: boolean; getColorDepth: () => number } =>
    Object.assign(new PassThrough(), {
      isTTY: true,
      getColorDepth: (env?: NodeJS.ProcessEnv) =>
        WriteStream.prototype.getColorDepth.call({} as WriteStream, { TERM: 'xterm', ...env }),
    });
  const collect = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const out = tty();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const target = await prefixedOutput({ names: ['a', 'bbb'], stdout: out, stderr: tty(), env });
    const run = await start(t, 'a', 'echo hi', target('a'));
    await run.exited;
    await run.swept();
    return text;
  };
  t.is(await collect({ NO_COLOR: '1' }), 'a   | hi\n');
  const painted = await collect({});
  t.not(painted, 'a   | hi\n');
  t.is(painted.replaceAll(/\u001b\[[0-9;]*m/g, ''), 'a   | hi\n');
});

test('any bytes, any name: the prefix and the lines come out byte for byte', async (t) => {
  // A name with UTF-8 and with "$" (special in a replace pattern); lines with bytes no text has.
  const names = ['wé$&$1', 'b'];
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const target = await prefixedOutput({ names, stdout: out, stderr: new PassThrough(), color: 0 });
  const lines = [Buffer.from([0xff, 0xfe, 0x00, 0x0d]), Buffer.from('é ok $&'), Buffer.alloc(0)];
  const input = new PassThrough();
  const following = target('wé$&$1').follow(
    { name: 'wé$&$1', pid: 0 },
    { stdout: input, stderr: new PassThrough().end() },
  );
  input.end(Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')])));
  await following;
  const prefix = Buffer.from('wé$&$1 | ');
  t.deepEqual(
    Buffer.concat(chunks),
    Buffer.concat(lines.flatMap((line) => [prefix, line, Buffer.from('\n')])),
  );
});

test("without a target the child's stdout and stderr are keepalive's own", async (t) => {
  const options = resolveOptions({ command: 'sleep', args: ['30'] });
  const started = await startRun({
    options,
    env: process.env,
    restarts: 0,
    now: () => performance.now(),
    oomKills: () => undefined,
    emit: (() => true) as never,
    ownsOrphans: false,
  });
  if (!started.started) return t.fail('not started');
  const { run } = started;
  t.teardown(() => run.killNow());
  for (const fd of [1, 2])
    t.is(readlinkSync(`/proc/${run.pid}/fd/${fd}`), readlinkSync(`/proc/self/fd/${fd}`));
  run.stop('SIGTERM');
  await run.exited;
  await run.swept();
});
