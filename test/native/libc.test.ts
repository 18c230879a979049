// The libc of this very process, found for real and called through koffi.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import test from 'ava';
import type Koffi from 'koffi';
import { findLibc } from '../../src/core/libc.js';
import { libcToLoad } from '../../src/native/libc.js';
import { fixture } from '../helpers/keepalive.js';

// Node's own report says whether it runs on glibc: an oracle that does not read the maps.
const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
const family = header.glibcVersionRuntime === undefined ? 'musl' : 'glibc';

test('the libc found in /proc/self/maps is the one Node runs on, and koffi calls into it', (t) => {
  const found = findLibc(readFileSync('/proc/self/maps', 'utf8'));
  t.is(found?.family, family);
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  const getpid = koffi.load(libcToLoad()).func('int getpid()') as () => number;
  t.is(getpid(), process.pid);
});

test('a musl process is given its musl path; without /proc, the soname', (t) => {
  const musl = readFileSync(fixture('maps-musl-ld-musl.txt'), 'utf8');
  t.is(
    libcToLoad(() => musl),
    '/tmp/musltest/lib/ld-musl-x86_64.so.1',
  );
  const noProc = (): string => {
    throw Object.assign(new Error('ENOENT: /proc/self/maps'), { code: 'ENOENT' });
  };
  t.is(libcToLoad(noProc), 'libc.so.6');
});
