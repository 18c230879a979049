// Which C library this process runs on, from its memory map (the text of /proc/self/maps), and the
// name to dlopen it by. Node is linked against glibc on most distributions and against musl on
// Alpine (the node:*-alpine images); the libc calls in native/native.ts must go to the one loaded.

export type LibcFamily = 'glibc' | 'musl';

export interface Libc {
  family: LibcFamily;
  /** The mapped file, as the kernel names it. */
  path: string;
}

// glibc's file is libc.so.6 (libc-2.NN.so before 2.34). musl is its own dynamic loader: the file
// is /lib/ld-musl-<arch>.so.1 on Alpine (libc.musl-<arch>.so.1 is a link to it) and libc.so in
// Debian's musl package. glibc's own libc.so is a linker script, never mapped.
const GLIBC = /^(?:libc\.so\.6|libc-2\.\d+\.so)$/;
const MUSL = /^(?:ld-musl-[\w-]+\.so\.1|libc\.musl-[\w-]+\.so\.1|libc\.so)$/;

/**
 * maps lines: "start-end perms offset dev inode   /path/of/file", " (deleted)" once the file is
 * replaced.
 */
const LINE = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*?)(?: \(deleted\))?$/;

/**
 * The libc mapped into the process whose maps text this is; undefined if none is (a static binary).
 */
export function findLibc(maps: string): Libc | undefined {
  for (const line of maps.split('\n')) {
    const path = LINE.exec(line)?.[1];
    if (path === undefined) continue;
    const file = path.slice(path.lastIndexOf('/') + 1);
    if (GLIBC.test(file)) return { family: 'glibc', path };
    if (MUSL.test(file)) return { family: 'musl', path };
  }
  return undefined;
}

/**
 * What to dlopen. glibc: its soname, which its dlopen matches to the copy already loaded, even
 * after an upgrade replaced the file (the path would load a second libc). musl: the mapped path,
 * which its dlopen answers with itself. With nothing found, libc.so.6: glibc's soname, and a name
 * musl's dlopen also takes for itself.
 */
export function libcLoadName(libc: Libc | undefined): string {
  return libc?.family === 'musl' ? libc.path : 'libc.so.6';
}
