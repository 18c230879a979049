// `keepalive --output FILE` end to end, through the installed command: every line through
// rotations, also as `tail -F FILE` follows it; a full disk said in keepalive's own (JSON) line and
// in the on-exit hook's KEEPALIVE_OUTPUT_DROPPED; the option checks.
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { fixture, Keepalive, Lines, runKeepalive } from '../helpers/keepalive.js';
import { endWithWorker } from '../helpers/cleanup.js';
import { eventually } from '../helpers/proc.js';
import { readChain, seqNumbers } from '../output/file-helpers.js';

function directory(t: ExecutionContext): string {
  const made = mkdtempSync(join(tmpdir(), 'keepalive-output-e2e-'));
  t.teardown(() => rmSync(made, { recursive: true, force: true }));
  return made;
}

const ALL = (count: number): number[] => Array.from({ length: count }, (_, seq) => seq);

test('every line through rotations, and `tail -F FILE` sees every one of them', async (t) => {
  const path = join(directory(t), 'app.log');
  // Where inotify is not used (an overlay file system), tail polls: it looks at the name again
  // only after --max-unchanged-stats polls of an unchanged file, here one.
  const tail = spawn('tail', ['-F', '-n', '+1', '-s', '0.05', '--max-unchanged-stats=1', path], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  endWithWorker(tail.pid);
  t.teardown(() => tail.kill('SIGKILL'));
  const seen = new Lines();
  tail.stdout.setEncoding('utf8').on('data', (chunk: string) => seen.push(chunk));
  // A rotation every 200 ms or so: tail -F follows a name, and a file that lives for less than
  // its reaction time is passed over whatever the writer does.
  const count = 3_000;
  const ended = await runKeepalive([
    '--output',
    path,
    '--output-max-size',
    '10kB',
    '--output-keep',
    '100',
    '--restart',
    'never',
    '--',
    process.execPath,
    fixture('seq-lines.mjs'),
    String(count),
    '10',
    '20',
  ]);
  t.is(ended.status, 0, ended.stderr);
  t.false(ended.stderr.includes('seq 0'), "the child's lines are not on keepalive's stderr");
  t.deepEqual(seqNumbers(t, readChain(path, 100).text), ALL(count));
  t.true(readChain(path, 100).files > 25);
  await seen.next(new RegExp(`^seq ${String(count - 1).padStart(8, '0')} `));
  const followed = seen.all.filter((line) => line.startsWith('seq '));
  const missing = ALL(count).filter(
    (seq) => !followed.some((line) => line.startsWith(`seq ${String(seq).padStart(8, '0')}`)),
  );
  t.deepEqual(missing, []);
  t.deepEqual(seqNumbers(t, `${followed.join('\n')}\n`), ALL(count));
});

test.serial(
  'a full disk: said once space is back, in JSON too, and told to the on-exit hook',
  async (t) => {
    const disk = mkdtempSync(join(tmpdir(), 'keepalive-disk-e2e-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]);
    t.teardown(() => {
      try {
        execFileSync('umount', [disk]);
      } catch {
        execFileSync('umount', ['-l', disk]);
      }
      rmdirSync(disk);
    });
    const filler = join(disk, 'filler');
    writeFileSync(filler, Buffer.alloc(200 * 1024, 'x'));
    const path = join(disk, 'app.log');
    const told = join(directory(t), 'told');
    const count = 1_500;
    const keepalive = new Keepalive([
      '--output',
      path,
      '--log-format',
      'json',
      '--restart',
      'never',
      '--on-exit',
      `echo "$KEEPALIVE_OUTPUT_DROPPED" > ${told}`,
      '--',
      process.execPath,
      fixture('seq-lines.mjs'),
      String(count),
      '5',
      '5',
    ]);
    await eventually('the disk full', () => statfsSync(disk).bavail === 0);
    // Lines come every 5 ms: some of them find no room before the space comes back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(filler);
    const ended = await keepalive.ended;
    t.is(ended.status, 0);
    const records = keepalive.stderr.all.map((line) => JSON.parse(line) as Record<string, unknown>);
    const dropped = records.filter((record) => record['event'] === 'output');
    t.true(dropped.length >= 1, keepalive.stderr.text);
    t.like(dropped[0], { kind: 'dropped', reason: 'ENOSPC' });
    t.regex(String(dropped[0]?.['message']), /dropped \d+ lines \(ENOSPC\)/);
    const total = dropped.reduce((sum, record) => sum + Number(record['lines']), 0);
    const numbers = seqNumbers(t, readFileSync(path, 'utf8'));
    t.is(numbers.length + total, count);
    t.is(readFileSync(told, 'utf8').trim(), String(total));
  },
);

test('the --output options need --output; a refused FILE is said in one line', async (t) => {
  const needs = await runKeepalive(['--output-keep', '3', '--', 'true']);
  t.is(needs.status, 2);
  t.is(needs.stderr.trim(), 'keepalive: --output-keep needs --output');
  const dir = directory(t);
  symlinkSync('/etc/passwd', join(dir, 'app.log'));
  const refused = await runKeepalive(['--output', join(dir, 'app.log'), '--', 'true']);
  t.is(refused.status, 1);
  t.regex(refused.stderr.trim(), /^keepalive: cannot open --output .*: it is a symbolic link$/);
});

test('--output and --log-file cannot be the same file', async (t) => {
  const dir = directory(t);
  const ended = await runKeepalive([
    '--output',
    join(dir, 'same.log'),
    '--log-file',
    `${dir}/./same.log`,
    '--',
    'true',
  ]);
  t.is(ended.status, 2);
  t.is(
    ended.stderr.trim(),
    'keepalive: --output and --log-file name the same file; give each its own',
  );
});
