// The C library of this very process, for koffi to load (see core/libc.ts for how it is told).
import { readFileSync } from 'node:fs';
import { findLibc, libcLoadName } from '../core/libc.js';

/** The name or path to dlopen for this process's libc; readMaps is the seam tests replace. */
export function libcToLoad(
  readMaps: () => string = () => readFileSync('/proc/self/maps', 'utf8'),
): string {
  let maps: string;
  try {
    maps = readMaps();
  } catch {
    maps = ''; // no /proc: the fallback name works with glibc and musl alike
  }
  return libcLoadName(findLibc(maps));
}
