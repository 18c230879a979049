// The spawn gateway with real processes: what reaches the child, and the facts of its end.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { spawnProcess } from '../../src/spawn/spawn.js';
import { isProblem, resolveAccount } from '../../src/spawn/account.js';

const scratch = (t: { teardown: (fn: () => void) => void }): string => {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-spawn-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
};

async function output(
  request: Parameters<typeof spawnProcess>[0],
): Promise<{ text: string; facts: unknown }> {
  const spawned = await spawnProcess({ ...request, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  if (!spawned.started) throw new Error(spawned.message);
  const pipe = spawned.pipes.get(3);
  let text = '';
  pipe?.read((chunk, length) => (text += chunk.toString('latin1', 0, length)));
  const facts = await spawned.ended;
  await pipe?.ended;
  return { text, facts };
}

test("the wait status is the kernel's: exit codes and every signal, real-time ones too", async (t) => {
  const exited = await output({
    command: 'sh',
    args: ['-c', 'exit 42'],
    env: process.env,
    ownGroup: true,
  });
  t.deepEqual(exited.facts, { started: true, code: 42, signal: null });
  const realtime = await output({
    command: 'sh',
    args: ['-c', 'kill -s RTMIN+5 $$'],
    env: process.env,
    ownGroup: true,
  });
  t.like(realtime.facts, { started: true, code: null, signal: 'SIGRT6', coreDumped: false });
});

test('arguments and environment values given as Buffers arrive as those bytes', async (t) => {
  const bytes = Buffer.from([0xff, 0x00 + 0x41, 0xfe]);
  const { text } = await output({
    command: 'sh',
    args: ['-c', 'printf %s "$1$X" >&3', 'sh', bytes],
    env: { PATH: process.env['PATH'], X: Buffer.from([0xc3]) },
    ownGroup: true,
  });
  t.deepEqual(Buffer.from(text, 'latin1'), Buffer.from([0xff, 0x41, 0xfe, 0xc3]));
});

test('the child gets a session of its own, the cwd asked for, and default signal dispositions', async (t) => {
  const directory = scratch(t);
  // Node ignores SIGPIPE; a child must not inherit that.
  const { text } = await output({
    command: 'sh',
    args: ['-c', 'pwd >&3; ps -o sid= -p $$ >&3; echo $$ >&3; grep SigIgn /proc/self/status >&3'],
    cwd: directory,
    env: process.env,
    ownGroup: true,
  });
  const [cwd, sid, pid, ignored] = text
    .trim()
    .split('\n')
    .map((line) => line.trim());
  t.is(cwd, directory);
  t.is(sid, pid);
  // Signals 1-31 (SIGPIPE among them) at their defaults; 32 and 33 belong to glibc itself.
  t.is(BigInt(`0x${ignored?.split('\t')[1] ?? 'ff'}`) & 0x7fffffffn, 0n, ignored);
});

test('not started: 127 facts for a missing command, 126 for one that cannot run, a missing interpreter named', async (t) => {
  const directory = scratch(t);
  const missing = await spawnProcess({
    command: 'no-such-command-keepalive',
    args: [],
    env: process.env,
    ownGroup: true,
  });
  t.like(missing, { started: false, facts: { started: false, errno: 'ENOENT' } });
  const plain = join(directory, 'plain');
  writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
  const notExecutable = await spawnProcess({
    command: plain,
    args: [],
    env: process.env,
    ownGroup: true,
  });
  t.like(notExecutable, { started: false, facts: { started: false, errno: 'EACCES' } });
  const script = join(directory, 'job.sh');
  writeFileSync(script, '#!/no/such/sh\necho hi\n');
  chmodSync(script, 0o755);
  const interpreter = await spawnProcess({
    command: script,
    args: [],
    env: process.env,
    ownGroup: true,
  });
  t.like(interpreter, {
    started: false,
    facts: { started: false, errno: 'ENOENT', missingInterpreter: '/no/such/sh' },
  });
});

test('the environment and arguments of each spawn are its own: a value changed, a key added or removed, arguments changed in place', async (t) => {
  const print = 'printf "%s|%s|%s|%s" "$A" "$B" "$C" "$1" >&3';
  const run = async (env: Record<string, string>, args: string[]): Promise<string> =>
    (
      await output({
        command: 'sh',
        args,
        env: { PATH: process.env['PATH'] ?? '', ...env },
        ownGroup: false,
      })
    ).text;
  const args = ['-c', print, 'sh', 'first'];
  t.is(await run({ A: '1', B: '2' }, args), '1|2||first');
  t.is(await run({ A: '1', B: '3' }, args), '1|3||first');
  t.is(await run({ A: '1', B: '3', C: '4' }, args), '1|3|4|first');
  args[3] = 'second';
  t.is(await run({ A: '1' }, args), '1|||second');
  t.is(await run({ B: '5', A: '1' }, args), '1|5||second');
});

test("a file without #! runs under sh, as execvp would run it; PATH is the child's", async (t) => {
  const directory = scratch(t);
  writeFileSync(join(directory, 'bare-script'), 'echo from-sh >&3\n', { mode: 0o755 });
  const { text, facts } = await output({
    command: 'bare-script',
    args: [],
    env: { PATH: `${directory}:/usr/bin:/bin` },
    ownGroup: true,
  });
  t.is(text, 'from-sh\n');
  t.like(facts, { code: 0 });
});

test('PATH is searched again on every start: a program put earlier in PATH since the last start is the one started', async (t) => {
  const directory = scratch(t);
  const [early, late] = [join(directory, 'early'), join(directory, 'late')];
  mkdirSync(early);
  mkdirSync(late);
  writeFileSync(join(late, 'which-one'), '#!/bin/sh\necho late >&3\n', { mode: 0o755 });
  const env = { PATH: `${early}:${late}:/usr/bin:/bin` };
  t.is((await output({ command: 'which-one', args: [], env, ownGroup: true })).text, 'late\n');
  writeFileSync(join(early, 'which-one'), '#!/bin/sh\necho early >&3\n', { mode: 0o755 });
  t.is((await output({ command: 'which-one', args: [], env, ownGroup: true })).text, 'early\n');
  rmSync(join(early, 'which-one'));
  t.is((await output({ command: 'which-one', args: [], env, ownGroup: true })).text, 'late\n');
});

test('a pipe read late loses nothing and holds little meanwhile: the child waits on the full pipe', async (t) => {
  const spawned = await spawnProcess({
    command: 'sh',
    args: ['-c', 'head -c 1000000 /dev/zero >&3; echo done'],
    env: process.env,
    stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
    ownGroup: true,
  });
  if (!spawned.started) return t.fail(spawned.message);
  const pipe = spawned.pipes.get(3);
  if (!pipe) return t.fail('no pipe at fd 3');
  let said = '';
  const stdout = spawned.pipes.get(1);
  stdout?.read((chunk, length) => (said += chunk.toString('utf8', 0, length)));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(said, '', 'the child is still writing: nothing read its pipe for it');
  let total = 0;
  pipe.read((_chunk, length) => (total += length));
  await pipe.ended;
  t.is(total, 1_000_000);
  t.like(await spawned.ended, { code: 0 });
  await stdout?.ended;
  t.is(said, 'done\n');
});

test('a pipe whose last words and end came together: both are read', async (t) => {
  const spawned = await spawnProcess({
    command: 'sh',
    args: ['-c', 'printf "last words" >&3'],
    env: process.env,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    ownGroup: true,
  });
  if (!spawned.started) return t.fail(spawned.message);
  const pipe = spawned.pipes.get(3);
  if (!pipe) return t.fail('no pipe at fd 3');
  t.teardown(() => pipe.close());
  t.like(await spawned.ended, { code: 0 });
  // Read only after the child is gone: its bytes and the pipe's end wait in the kernel together.
  let said = '';
  pipe.read((chunk, length) => (said += chunk.toString('utf8', 0, length)));
  const ended = await Promise.race([pipe.ended.then(() => true), sleep(5_000).then(() => false)]);
  t.true(ended, 'the end was read');
  t.is(said, 'last words');
});

test('as another user: a failed exec is "not started", an exit with 127 is an exit', async (t) => {
  const account = resolveAccount('nobody', undefined);
  if (account === undefined || isProblem(account)) return t.fail(JSON.stringify(account));
  const env = { ...process.env, PATH: '/usr/bin:/bin' };
  const missing = await spawnProcess({
    command: 'no-such-command-as-nobody',
    args: [],
    env,
    stdio: 'ignore',
    ownGroup: true,
    account,
  });
  t.like(missing, { started: false, facts: { errno: 'ENOENT' } });
  const exited = await output({
    command: 'sh',
    args: ['-c', 'exit 127'],
    env,
    ownGroup: true,
    account,
  });
  t.deepEqual(exited.facts, { started: true, code: 127, signal: null });
  const denied = await spawnProcess({
    command: '/etc/shadow',
    args: [],
    env,
    stdio: 'ignore',
    ownGroup: true,
    account,
  });
  t.like(denied, { started: false, facts: { errno: 'EACCES' } });
});
