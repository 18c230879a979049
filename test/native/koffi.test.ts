// koffi from node_modules: on glibc x64 its native part is loaded straight, without koffi's
// JavaScript loader (6-10 ms of every start-up), and it is the whole API native.ts uses.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';

const KOFFI = new URL('../../src/native/koffi.js', import.meta.url).href;

test('on glibc x64, koffi is its native part loaded straight: its JavaScript loader never runs', (t) => {
  if (process.arch !== 'x64' || existsSync('/lib/ld-musl-x86_64.so.1'))
    return t.fail('this machine is expected to be glibc x64');
  const script = `
    import { createRequire } from 'node:module';
    import { requireKoffi } from ${JSON.stringify(KOFFI)};
    const koffi = requireKoffi();
    const getpid = koffi.load('libc.so.6').func('int getpid()');
    const loaders = Object.keys(createRequire(import.meta.url).cache).filter((path) => /koffi[\\\\/](src|index)/.test(path));
    console.log(JSON.stringify({ pid: getpid() === process.pid, loaders, errno: typeof koffi.errno }));`;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as { pid: boolean; loaders: string[]; errno: string };
  t.deepEqual(out, { pid: true, loaders: [], errno: 'function' });
});
