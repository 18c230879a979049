// The lock and the files beside a pidfile, on real files and a real process killed with SIGKILL.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryLock } from '../../src/guardian/instance-files.js';
import { readTrustedFile, writeAtomically } from '../../src/guardian/safe-files.js';
import { eventually } from '../helpers/proc.js';

function directory(t: { teardown(fn: () => void): void }): string {
  const path = mkdtempSync(join(tmpdir(), 'keepalive-files-'));
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

test('the lock is exclusive, even within one process; released with its file, it can be taken again', (t) => {
  const path = join(directory(t), 'app.pid.lock');
  const first = tryLock(path);
  t.truthy(first);
  t.is(tryLock(path), undefined);
  t.is((statSync(path).mode & 0o777).toString(8), '600');
  first?.release(true);
  t.false(existsSync(path));
  const again = tryLock(path);
  t.truthy(again);
  again?.release(true);
});

test('the kernel drops the lock when its holder is killed with SIGKILL: it never goes stale', async (t) => {
  const path = join(directory(t), 'app.pid.lock');
  const module = fileURLToPath(new URL('../../src/guardian/instance-files.js', import.meta.url));
  const holder = spawn(process.execPath, [
    '--input-type=module',
    '-e',
    `const { tryLock } = await import(${JSON.stringify(module)}); console.log(tryLock(${JSON.stringify(path)}) ? 'locked' : 'busy'); setInterval(() => {}, 1000);`,
  ]);
  t.teardown(() => holder.kill('SIGKILL'));
  const [output] = (await once(holder.stdout, 'data')) as [Buffer];
  t.is(output.toString().trim(), 'locked');
  t.is(tryLock(path), undefined, 'held by a live process');
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const lock = await eventually('the lock to be free', () => tryLock(path));
  lock.release(true);
  t.pass();
});

test('writeAtomically replaces a planted symlink instead of writing through it, with the exact mode', (t) => {
  const dir = directory(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const path = join(dir, 'app.pid.state');
  symlinkSync(victim, path);
  writeAtomically(path, '{"ok":true}\n', 0o644);
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.true(lstatSync(path).isFile());
  t.is((statSync(path).mode & 0o777).toString(8), '644');
  t.is(readFileSync(path, 'utf8'), '{"ok":true}\n');
});

test('readTrustedFile: undefined when missing; a symlink, a directory, a FIFO, a file others write or own is refused', (t) => {
  const dir = directory(t);
  t.is(readTrustedFile(join(dir, 'missing')), undefined);
  writeFileSync(join(dir, 'file'), '42\n', { mode: 0o644 });
  t.is(readTrustedFile(join(dir, 'file')), '42\n');
  symlinkSync(join(dir, 'file'), join(dir, 'link'));
  t.throws(() => readTrustedFile(join(dir, 'link')), { code: 'ELOOP' });
  t.throws(() => readTrustedFile(dir), {
    code: 'EUNTRUSTED',
    message: `${dir}: it is a directory`,
  });
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  t.throws(
    () => readTrustedFile(join(dir, 'fifo')),
    { code: 'EUNTRUSTED', message: `${join(dir, 'fifo')}: it is a FIFO` },
    'refused at once, not blocked in open()',
  );
  chmodSync(join(dir, 'file'), 0o664);
  t.throws(() => readTrustedFile(join(dir, 'file')), {
    code: 'EUNTRUSTED',
    message: /its group \(gid \d+\) can write it$/,
  });
  chmodSync(join(dir, 'file'), 0o646);
  t.throws(() => readTrustedFile(join(dir, 'file')), {
    code: 'EUNTRUSTED',
    message: /any user can write it$/,
  });
  chmodSync(join(dir, 'file'), 0o644);
  chownSync(join(dir, 'file'), 54_321, 54_321);
  t.throws(() => readTrustedFile(join(dir, 'file')), {
    code: 'EUNTRUSTED',
    message: /it is owned by uid 54321, neither keepalive's user \(uid 0 \(root\)\) nor root$/,
  });
});
