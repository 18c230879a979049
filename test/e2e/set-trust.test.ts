// A set's file is a root keepalive's input: whoever can change it chooses what runs as root. So a
// file (or a directory above it, or a link on the way) another user owns or can write is refused
// with one line and status 2, and so are a FIFO, a device, a huge file, bytes that are not UTF-8
// and a billion laughs; nothing is started. Run as root (the suite's other-user tests are too):
// files are handed to uid 65534 with chown, no account needed.
import test from 'ava';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKeepalive } from '../helpers/keepalive.js';

const OTHER = 65534;
const directory = mkdtempSync(join(tmpdir(), 'keepalive-trust-'));
chmodSync(directory, 0o755);
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

/** A config whose one process leaves a marker file: the marker says whether it ran. */
function config(name: string): { path: string; marker: string } {
  const marker = join(directory, `${name}.ran`);
  const path = join(directory, name);
  writeFileSync(
    path,
    `processes:\n  web:\n    command: ["touch", ${JSON.stringify(marker)}]\n` +
      '    restart: never\n',
  );
  return { path, marker };
}

async function refused(
  t: import('ava').ExecutionContext,
  args: string[],
  words: RegExp,
  marker?: string,
): Promise<void> {
  const result = await runKeepalive(args);
  t.is(result.status, 2, result.stderr);
  t.is(result.lines.length, 1, result.stderr);
  t.regex(result.stderr, words);
  t.notRegex(result.stderr, /\n {4}at /);
  if (marker !== undefined) t.false(existsSync(marker), 'nothing was started');
}

test('a config another user owns is not run', async (t) => {
  const { path, marker } = config('owned.yaml');
  chownSync(path, OTHER, OTHER);
  await refused(t, ['-c', path], /owned.yaml: not run, .*owned by uid 65534.*nor root/, marker);
});

test('a Procfile any user can write is not run', async (t) => {
  const marker = join(directory, 'procfile.ran');
  const path = join(directory, 'Procfile');
  writeFileSync(path, `web: touch ${marker}\n`);
  chmodSync(path, 0o666);
  await refused(t, ['--procfile', path, '--restart', 'never'], /any user can write it/, marker);
});

test('a config in a directory another user owns is not run', async (t) => {
  const theirs = join(directory, 'theirs');
  mkdirSync(theirs);
  chownSync(theirs, OTHER, OTHER);
  const { path, marker } = config('theirs/app.yaml');
  await refused(t, ['-c', path], /theirs: it is owned by uid 65534/, marker);
});

test("a link to another user's config, or another user's link, is not followed", async (t) => {
  const { path, marker } = config('linked.yaml');
  chownSync(path, OTHER, OTHER);
  const link = join(directory, 'to-theirs.yaml');
  symlinkSync(path, link);
  await refused(t, ['-c', link], /linked.yaml: it is owned by uid 65534/, marker);
  const mine = config('mine.yaml');
  const theirLink = join(directory, 'their-link.yaml');
  symlinkSync(mine.path, theirLink);
  lchownSync(theirLink, OTHER, OTHER);
  await refused(t, ['-c', theirLink], /their-link.yaml: it is owned by uid 65534/, mine.marker);
});

test("root's own link to root's config is followed", async (t) => {
  const { path } = config('target.yaml');
  const link = join(directory, 'link.yaml');
  symlinkSync(path, link);
  const result = await runKeepalive(['-c', link, '--check']);
  t.is(result.stdout, 'web  starts at once\n');
  t.is(result.status, 0);
});

test('a FIFO, a device and a huge file: one line each, at once', async (t) => {
  const fifo = join(directory, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  await refused(t, ['-c', fifo], /fifo.yaml: it is a FIFO/);
  await refused(t, ['-c', '/dev/zero'], /\/dev\/zero: it is a device/);
  const huge = join(directory, 'huge.yaml');
  writeFileSync(huge, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
  await refused(t, ['-c', huge], /huge.yaml: larger than 1 MiB/);
});

test('bytes that are not UTF-8 are refused, naming the line', async (t) => {
  const path = join(directory, 'latin1.yaml');
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from('processes:\n  web:\n    command: "echo caf'),
      Buffer.from([0xe9]),
      Buffer.from('"\n'),
    ]),
  );
  await refused(t, ['-c', path], /latin1.yaml:3: not UTF-8 text/);
});

test('a billion laughs is refused as too many aliases', async (t) => {
  const entries = ['A0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    entries.push(`A${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  const path = join(directory, 'laughs.yaml');
  writeFileSync(
    path,
    `processes:\n  web:\n    command: echo\n    env:\n${entries.map((e) => `      ${e}\n`).join('')}`,
  );
  await refused(t, ['-c', path, '--check'], /laughs.yaml:\d+: too many aliases/);
});
