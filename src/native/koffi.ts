// koffi itself, for native.ts. From node_modules in the package; in the single executable
// (scripts/build-binary.mjs) koffi's JavaScript is in the bundle and its native part is an asset,
// written to a fresh private directory, loaded, and removed at once (the mapping outlives the
// file). keepalive runs as root: a path another user could plant or swap a library at is never
// loaded.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getRawAsset, isSea } from 'node:sea';
import type Koffi from 'koffi';
import { checkDirectory } from '../guardian/safe-files.js';

/** The asset's name in the executable (scripts/build-binary.mjs). */
export const KOFFI_ASSET = 'koffi.node';

export function requireKoffi(): typeof Koffi {
  if (!isSea()) return fromPackage();
  return loadEmbedded(new Uint8Array(getRawAsset(KOFFI_ASSET) as ArrayBuffer));
}

/**
 * koffi from node_modules. Its own loader (JavaScript that reads Node's ELF header to tell glibc
 * from musl, then requires the build) costs 6-10 ms of start-up; koffi's native part is koffi's
 * whole API, so on glibc x64 the build in koffi's platform package is loaded straight (1.5 ms).
 * Anywhere else (musl, another machine, a layout without that file), koffi's loader decides.
 */
function fromPackage(): typeof Koffi {
  const require = createRequire(import.meta.url);
  if (
    process.platform === 'linux' &&
    process.arch === 'x64' &&
    !existsSync('/lib/ld-musl-x86_64.so.1')
  ) {
    try {
      const module = { exports: {} as typeof Koffi };
      // Where koffi's loader looks first: its platform package beside it in node_modules.
      process.dlopen(
        module,
        join(
          dirname(require.resolve('koffi')),
          '..',
          '@koromix',
          'koffi-linux-x64',
          'linux_x64',
          'koffi.node',
        ),
      );
      if (typeof module.exports.load === 'function') return module.exports;
    } catch {
      // Not there, or not loadable here: koffi's own loader below.
    }
  }
  return require('koffi') as typeof Koffi;
}

/** Where the library may be written: a noexec mount refuses the load, so the next one is tried. */
function places(): string[] {
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return [...new Set([...(runtime ? [runtime] : []), tmpdir(), '/dev/shm', '/run', '/var/tmp'])];
}

/**
 * Why a place is not to hold the library: it, or a directory above it, is one that another user
 * could rename keepalive's directory in and put one of their own in its place (an $XDG_RUNTIME_DIR
 * of another user's, kept by sudo, or a TMPDIR in their home).
 */
function distrust(place: string): string | undefined {
  try {
    checkDirectory(place); // it, every directory above it, and every link on the way
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function loadEmbedded(bytes: Uint8Array): typeof Koffi {
  const refused: string[] = [];
  for (const place of places()) {
    const why = distrust(place);
    if (why !== undefined) {
      refused.push(why);
      continue;
    }
    let dir: string;
    try {
      // mkdtemp makes a new directory of ours, mode 0700, under a name nobody could have chosen.
      dir = mkdtempSync(join(place, 'keepalive-koffi-'));
    } catch (error) {
      refused.push(`${place} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    try {
      const file = join(dir, KOFFI_ASSET);
      writeFileSync(file, bytes, { flag: 'wx', mode: 0o500 });
      const module = { exports: {} as typeof Koffi };
      process.dlopen(module, file);
      return module.exports;
    } catch (error) {
      refused.push(`${place} (${(error as Error).message.split('\n')[0]})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(
    `cannot load koffi's native part: no directory would take it and let it be loaded: ` +
      `${refused.join('; ')}; set TMPDIR to a directory on an exec-allowed filesystem`,
  );
}
