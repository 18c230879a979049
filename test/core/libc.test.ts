// Telling glibc from musl by a process's memory map. The musl maps are real: two musl processes on
// this (Debian) machine, a program built with musl-gcc (Debian's musl 1.2.3, whose file is
// /usr/lib/x86_64-linux-musl/libc.so) and the same program with its loader at a file named
// ld-musl-x86_64.so.1, the name Alpine's /lib gives musl.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { findLibc, libcLoadName } from '../../src/core/libc.js';
import { fixture } from '../helpers/keepalive.js';

const line = (path: string): string =>
  `7f17b19c1000-7f17b19e7000 r--p 00000000 fe:00 339380                     ${path}`;

test('a musl process is told by the musl it maps, and musl is loaded by that path', (t) => {
  const debian = findLibc(readFileSync(fixture('maps-musl-debian.txt'), 'utf8'));
  t.deepEqual(debian, { family: 'musl', path: '/usr/lib/x86_64-linux-musl/libc.so' });
  const alpineNamed = findLibc(readFileSync(fixture('maps-musl-ld-musl.txt'), 'utf8'));
  t.deepEqual(alpineNamed, { family: 'musl', path: '/tmp/musltest/lib/ld-musl-x86_64.so.1' });
  t.is(libcLoadName(alpineNamed), '/tmp/musltest/lib/ld-musl-x86_64.so.1');
  t.deepEqual(findLibc(line('/lib/ld-musl-aarch64.so.1')), {
    family: 'musl',
    path: '/lib/ld-musl-aarch64.so.1',
  });
  t.deepEqual(findLibc(line('/lib/libc.musl-x86_64.so.1')), {
    family: 'musl',
    path: '/lib/libc.musl-x86_64.so.1',
  });
});

test('glibc, old and new, is loaded by its soname', (t) => {
  const maps = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 12 /usr/bin/node',
    line('/usr/lib/x86_64-linux-gnu/libc.so.6'),
    '',
  ].join('\n');
  t.deepEqual(findLibc(maps), { family: 'glibc', path: '/usr/lib/x86_64-linux-gnu/libc.so.6' });
  t.is(libcLoadName(findLibc(maps)), 'libc.so.6');
  t.deepEqual(findLibc(line('/lib/x86_64-linux-gnu/libc-2.31.so')), {
    family: 'glibc',
    path: '/lib/x86_64-linux-gnu/libc-2.31.so',
  });
});

test('a libc replaced on disk since it was mapped is still found, without the (deleted) mark', (t) => {
  t.deepEqual(findLibc(line('/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)')), {
    family: 'glibc',
    path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
  });
  t.deepEqual(findLibc(line('/lib/ld-musl-x86_64.so.1 (deleted)')), {
    family: 'musl',
    path: '/lib/ld-musl-x86_64.so.1',
  });
});

test('look-alikes are not a libc, and without one the soname is the fallback', (t) => {
  const maps = [
    line('/usr/lib/x86_64-linux-gnu/libcrypt.so.1'),
    line('/usr/lib/x86_64-linux-gnu/libcap.so.2'),
    line('/opt/my libc.so.6 dir/libcurl.so.4'),
    line('/usr/lib/libgcompat.so.0'),
    '7ffef3934000-7ffef3955000 rw-p 00000000 00:00 0                          [stack]',
    '7f4cca765000-7f4cca766000 rw-p 00000000 00:00 0 ',
    'garbage',
  ].join('\n');
  t.is(findLibc(maps), undefined);
  t.is(findLibc(''), undefined);
  t.is(libcLoadName(undefined), 'libc.so.6');
});

test('a path with spaces is read whole', (t) => {
  t.deepEqual(findLibc(line('/opt/my root/lib/ld-musl-x86_64.so.1')), {
    family: 'musl',
    path: '/opt/my root/lib/ld-musl-x86_64.so.1',
  });
});
