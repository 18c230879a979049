// The package's own facts (version, homepage, its README) for --version and --help. From the
// package's package.json beside the build; a bundle (scripts/build-bundle.mjs) has them written
// in at build time instead, because the single executable has no package.json beside it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PackageFacts {
  version: string;
  homepage?: string;
  /** The README's path, where there is one on disk. */
  readme?: string;
}

/**
 * Written in by the bundle's build (esbuild `define`); readme is relative to the bundle, or null.
 */
declare const KEEPALIVE_PACKAGE:
  { version: string; homepage?: string; readme: string | null } | undefined;

export function packageFacts(): PackageFacts {
  const embedded = typeof KEEPALIVE_PACKAGE === 'undefined' ? undefined : KEEPALIVE_PACKAGE;
  const facts =
    embedded ??
    (JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as PackageFacts);
  const relative = embedded ? embedded.readme : '../../README.md';
  const readme = relative === null ? undefined : fileURLToPath(new URL(relative, import.meta.url));
  return {
    version: facts.version,
    ...(facts.homepage === undefined ? {} : { homepage: facts.homepage }),
    ...(readme !== undefined && existsSync(readme) ? { readme } : {}),
  };
}
