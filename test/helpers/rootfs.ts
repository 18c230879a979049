// A container root filesystem assembled from this machine's own binaries (no image registry is
// reachable here): node, sh, a few coreutils, npm, the shared libraries they load (from ldd) and a
// minimal /etc, hard-linked where it can be. keepalive itself is not copied: containers mount the
// checkout read-only at /app. Without node (`node: false`) it is the root of keepalive's single
// executable.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Programs the tests' children use, found on PATH and copied to /usr/bin under the same name. */
const PROGRAMS = ['sh', 'sleep', 'cat', 'echo', 'true', 'env', 'ls', 'mkdir', 'rm', 'ln', 'chmod'];

export interface Rootfs {
  /** The root filesystem. */
  dir: string;
  /** A scratch directory beside it, for podman's working directory (conmon writes files there). */
  work: string;
  remove(): void;
}

const PREFIX = 'keepalive-rootfs-';

/**
 * Builds the root filesystem in a fresh temporary directory named after this process; throws a
 * readable error if it cannot. Directories a killed test run left behind are removed first.
 */
export function assembleRootfs(
  options: { node?: boolean; programs?: Readonly<Record<string, string>> } = {},
): Rootfs {
  const withNode = options.node ?? true;
  removeLeftovers();
  const top = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const [dir, work] = [join(top, 'root'), join(top, 'work')];
  // rm is several times faster than rmSync over npm's 2400 files; it never crosses into a mount.
  const remove = (): void => void spawnSync('rm', ['-rf', '--one-file-system', top]);
  try {
    mkdirSync(work);
    for (const sub of [
      'usr/bin',
      'usr/local/bin',
      'etc',
      'tmp',
      'run',
      'root',
      'app',
      'proc',
      'sys',
      'dev',
      'srv',
    ])
      mkdirSync(join(dir, sub), { recursive: true });
    chmodSync(join(dir, 'tmp'), 0o1777);
    symlinkSync('usr/bin', join(dir, 'bin'));
    const programs = new Map(PROGRAMS.map((name) => [join('usr/bin', name), which(name)]));
    if (withNode) programs.set('usr/bin/node', process.execPath);
    // Other files to put in, by their path in the root (keepalive's single executable: no node
    // then).
    for (const [path, source] of Object.entries(options.programs ?? {})) programs.set(path, source);
    for (const [path, source] of programs) place(source, join(dir, path));
    for (const library of new Set([...programs.values()].flatMap(sharedLibraries)))
      place(realpathSync(library), join(dir, library));
    if (withNode) copyNpm(dir);
    writeFileSync(
      join(dir, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n',
    );
    writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    return { dir, work, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/**
 * Root filesystems of test runs whose process is gone (a run killed by a timeout never tidies up).
 */
function removeLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (pid > 0 && !processExists(pid))
      spawnSync('rm', ['-rf', '--one-file-system', join(tmpdir(), name)]);
  }
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * npm's package, at /usr/lib/node_modules/npm with /usr/bin/npm and npx pointing into it, as Node's
 * images have it.
 */
function copyNpm(dir: string): void {
  const cli = realpathSync(which('npm')); // .../npm/bin/npm-cli.js
  const target = join(dir, 'usr/lib/node_modules/npm');
  placeTree(dirname(dirname(cli)), target);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(dir, 'usr/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(dir, 'usr/bin/npx'));
}

/** The program's file on PATH (not a shell builtin of the same name), symlinks resolved. */
/**
 * A hard link where it can be (the same filesystem: instant, and safe because the containers run
 * with --read-only), a copy where it cannot.
 */
function place(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  try {
    linkSync(source, target);
  } catch {
    cpSync(source, target);
  }
}

function placeTree(source: string, target: string): void {
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(source, { withFileTypes: true })) {
    const [from, to] = [join(source, entry.name), join(target, entry.name)];
    if (entry.isDirectory()) placeTree(from, to);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else place(from, to);
  }
}

function which(program: string): string {
  for (const directory of (process.env['PATH'] ?? '').split(':')) {
    const path = join(directory, program);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return realpathSync(path);
    } catch {
      // Not here.
    }
  }
  throw new Error(`cannot assemble the container's root filesystem: no ${program} on PATH`);
}

/** The absolute paths of every shared library a binary loads, its ELF interpreter included. */
function sharedLibraries(binary: string): string[] {
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (ldd.status !== 0) {
    if (/not a dynamic executable/.test(ldd.stdout + ldd.stderr)) return [];
    throw new Error(
      `cannot assemble the container's root filesystem: ldd ${binary} failed (${ldd.error?.message ?? ldd.stderr.trim()})`,
    );
  }
  return [...ldd.stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((match) => match[1] as string);
}
