// --output FILE with real files and real processes: every line through 50 rotations (gzipped or
// not), none lost, duplicated or torn; a rotated file keeps FILE's mode; a planted symlink at
// FILE.1 left alone; the formats; a refused FILE.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { FileOutput, type FileOutputOptions, type WriterNews } from '../../src/output/file.js';
import { readChain, seqNumbers, writeSeq } from './file-helpers.js';

function directory(t: ExecutionContext): string {
  const made = mkdtempSync(join(tmpdir(), 'keepalive-output-'));
  t.teardown(() => rmSync(made, { recursive: true, force: true }));
  return made;
}

function output(
  t: ExecutionContext,
  given: Partial<FileOutputOptions> & { path: string },
): { output: FileOutput; news: WriterNews[] } {
  const news: WriterNews[] = [];
  const target = new FileOutput({
    stderrPath: undefined,
    maxSize: 10_000_000,
    keep: 5,
    maxAge: undefined,
    compress: false,
    timestamps: false,
    format: 'text',
    lossless: false,
    tell: (said) => news.push(said),
    ...given,
  });
  t.teardown(() => target.close(0));
  return { output: target, news };
}

const ALL = (count: number): number[] => Array.from({ length: count }, (_, seq) => seq);

for (const compress of [false, true]) {
  test(`every line through 50 rotations${compress ? ', gzipped' : ''}: none lost, duplicated or torn`, async (t) => {
    const path = join(directory(t), 'app.log');
    const { output: target, news } = output(t, { path, maxSize: 20_000, keep: 100, compress });
    // 12,000 lines of 100 bytes at 20 kB a file: 60 rotations.
    const count = 12_000;
    await writeSeq(t, target, [count, 100, 5]);
    await target.close();
    t.deepEqual(news, [], `most queued: ${target.counts().mostQueued}`);
    const counts = target.counts();
    t.is(counts.dropped, 0);
    t.true(counts.rotations >= 50, `${counts.rotations} rotations`);
    const { text, files } = readChain(path, 100);
    t.is(files, counts.rotations + 1);
    t.deepEqual(seqNumbers(t, text), ALL(count));
    if (compress) t.true(existsSync(`${path}.1.gz`) && !existsSync(`${path}.1`));
    for (let index = 1; index <= counts.rotations; index++) {
      const name = `${path}.${index}${compress ? '.gz' : ''}`;
      if (!compress) t.true(statSync(name).size <= 20_000, `${name} is within the size`);
    }
  });
}

test('only --output-keep rotated files are kept, and a rotated file keeps FILE mode', async (t) => {
  const path = join(directory(t), 'app.log');
  writeFileSync(path, '');
  chmodSync(path, 0o640);
  const { output: target } = output(t, { path, maxSize: 10_000, keep: 3 });
  await writeSeq(t, target, [2_000, 100, 1]);
  await target.close();
  t.true(target.counts().rotations > 3);
  for (const name of [path, `${path}.1`, `${path}.2`, `${path}.3`])
    t.is(statSync(name).mode & 0o777, 0o640, name);
  t.false(existsSync(`${path}.4`));
  // The newest lines are all there, in order, up to the last one.
  const numbers = seqNumbers(t, readChain(path, 3).text);
  t.deepEqual(numbers, ALL(2_000).slice(2_000 - numbers.length));
});

test('a symlink planted at FILE.1 is left alone, said once; FILE goes on unrotated', async (t) => {
  const dir = directory(t);
  const path = join(dir, 'app.log');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, `${path}.1`);
  const { output: target, news } = output(t, { path, maxSize: 10_000, keep: 5 });
  await writeSeq(t, target, [1_000, 100, 1]);
  await target.close();
  t.is(readlinkSync(`${path}.1`), victim);
  t.true(lstatSync(`${path}.1`).isSymbolicLink());
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.false(existsSync(`${path}.2`));
  t.deepEqual(
    news.map((said) => said.kind),
    ['left-alone'],
  );
  t.like(news[0], { name: `${path}.1`, why: 'it is a symbolic link' });
  t.deepEqual(seqNumbers(t, readFileSync(path, 'utf8')), ALL(1_000));
});

test('a foreign name further up stops the chain before it: the files before it rotate', async (t) => {
  const dir = directory(t);
  const path = join(dir, 'app.log');
  symlinkSync('/etc/passwd', `${path}.3`);
  const { output: target, news } = output(t, { path, maxSize: 10_000, keep: 5 });
  await writeSeq(t, target, [1_000, 100, 1]);
  await target.close();
  t.true(lstatSync(`${path}.3`).isSymbolicLink());
  t.true(existsSync(`${path}.2`));
  t.false(existsSync(`${path}.4`));
  t.is(news.length, 1);
});

test('a symlink at FILE itself is refused', (t) => {
  const dir = directory(t);
  const path = join(dir, 'app.log');
  symlinkSync(join(dir, 'elsewhere'), path);
  const error = t.throws(() => output(t, { path }));
  t.is(error?.name, 'OutputFileError');
  t.regex(error?.message ?? '', /cannot open --output .*app\.log: it is a symbolic link/);
  t.false(existsSync(join(dir, 'elsewhere')));
});

test('a file another user can write is refused, as --log-file is', (t) => {
  const path = join(directory(t), 'app.log');
  writeFileSync(path, '');
  chmodSync(path, 0o666);
  const error = t.throws(() => output(t, { path }));
  t.regex(error?.message ?? '', /any user can write it/);
});

async function shell(t: ExecutionContext, target: FileOutput, script: string): Promise<void> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const { stdout, stderr } = child;
  if (!stdout || !stderr) throw new Error('no pipes');
  await target.follow({ name: 'sh', pid: child.pid ?? 0 }, { stdout, stderr });
  await target.close();
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;

test('--timestamps: an RFC 3339 time with milliseconds before each line; JSON lines stay JSON', async (t) => {
  const path = join(directory(t), 'app.log');
  const { output: target } = output(t, { path, timestamps: true });
  const before = Date.now();
  await shell(t, target, `echo plain; echo '{"level":"info","n":1}'; echo oops >&2`);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  t.is(lines.length, 3);
  for (const line of lines) {
    const stamp = STAMP.exec(line)?.[1];
    t.truthy(stamp, line);
    const time = Date.parse(stamp ?? '');
    t.true(time >= before - 1 && time <= Date.now(), line);
  }
  const rest = lines.map((line) => line.replace(STAMP, ''));
  t.deepEqual(rest.sort(), ['oops', 'plain', '{"level":"info","n":1}'].sort());
  t.deepEqual(JSON.parse(rest.find((line) => line.startsWith('{')) ?? ''), { level: 'info', n: 1 });
});

test('--output-format json: each line a JSON object of time, stream and line', async (t) => {
  const path = join(directory(t), 'app.log');
  const { output: target } = output(t, { path, format: 'json' });
  await shell(t, target, `echo 'say "hi"'; printf 'bad \\377 byte\\n'; echo oops >&2`);
  const records = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.is(records.length, 3);
  for (const record of records) {
    t.deepEqual(Object.keys(record), ['time', 'stream', 'line']);
    t.regex(String(record['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const by = (line: string): Record<string, unknown> | undefined =>
    records.find((record) => record['line'] === line);
  t.is(by('say "hi"')?.['stream'], 'stdout');
  t.is(by('oops')?.['stream'], 'stderr');
  t.truthy(by('bad \uFFFD byte'));
});

test('--output-stderr: stderr lines go to their own file', async (t) => {
  const dir = directory(t);
  const path = join(dir, 'out.log');
  const stderrPath = join(dir, 'err.log');
  const { output: target } = output(t, { path, stderrPath });
  await shell(t, target, 'echo to-out; echo to-err >&2');
  t.is(readFileSync(path, 'utf8'), 'to-out\n');
  t.is(readFileSync(stderrPath, 'utf8'), 'to-err\n');
});

test('rotate() rotates now; an empty FILE is left as it is', async (t) => {
  const path = join(directory(t), 'app.log');
  const { output: target } = output(t, { path });
  await target.rotate();
  t.false(existsSync(`${path}.1`));
  const child = spawn('sh', ['-c', 'echo first; read line; echo second'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const { stdout, stderr, stdin } = child;
  if (!stdout || !stderr || !stdin) throw new Error('no pipes');
  const followed = target.follow({ name: 'sh', pid: child.pid ?? 0 }, { stdout, stderr });
  for (let waited = 0; readFileSync(path, 'utf8') === '' && waited < 10_000; waited += 20)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await target.rotate();
  stdin.end('go\n');
  await followed;
  await target.close();
  t.is(readFileSync(`${path}.1`, 'utf8'), 'first\n');
  t.is(readFileSync(path, 'utf8'), 'second\n');
});

test('--output-max-age: rotated files last written before it are removed at a rotation', async (t) => {
  const dir = directory(t);
  const path = join(dir, 'app.log');
  writeFileSync(`${path}.1`, 'old\n');
  writeFileSync(`${path}.2`, 'older\n');
  chmodSync(`${path}.1`, 0o600);
  chmodSync(`${path}.2`, 0o600);
  const dayAgo = new Date(Date.now() - 86_400_000);
  utimesSync(`${path}.2`, dayAgo, dayAgo);
  const { output: target } = output(t, { path, maxAge: 3_600_000 });
  // The old one goes at the start already; the newer one stays.
  t.false(existsSync(`${path}.2`));
  await shell(t, target, 'echo line');
  t.is(readFileSync(`${path}.1`, 'utf8'), 'old\n');
});

test('rotate() while the child floods: every line once, in order, across the files', async (t) => {
  const path = join(directory(t), 'app.log');
  const { output: target } = output(t, { path, keep: 100 });
  const written = writeSeq(t, target, [10_000, 100, 5]);
  let rotations = 0;
  const rotating = (async () => {
    for (let done = false; !done; rotations++) {
      await target.rotate();
      done = await Promise.race([
        written.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20)),
      ]);
    }
  })();
  await Promise.all([written, rotating]);
  await target.close();
  t.is(target.dropped, 0);
  t.true(target.counts().rotations >= 5, `${target.counts().rotations} of ${rotations} asked`);
  t.deepEqual(seqNumbers(t, readChain(path, 100).text), ALL(10_000));
});

test('--output-stderr naming FILE itself is FILE: one writer, one rotation', async (t) => {
  const dir = directory(t);
  const path = join(dir, 'app.log');
  const { output: target } = output(t, { path, stderrPath: `${dir}/./app.log` });
  await shell(t, target, 'echo out; echo err >&2');
  t.deepEqual(readFileSync(path, 'utf8').split('\n').sort(), ['', 'err', 'out']);
});
