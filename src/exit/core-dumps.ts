// Whether a crashing child could write a core file: it inherits keepalive's RLIMIT_CORE.
import { readFileSync } from 'node:fs';
import type { CoreDumps } from '../core/exit.js';

export function coreDumpsFromLimits(limitsText: string): CoreDumps {
  const line = limitsText
    .split('\n')
    .find((candidate) => candidate.startsWith('Max core file size'));
  const soft = line?.slice('Max core file size'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return 'unknown';
  return soft === '0' ? 'disabled' : 'possible';
}

export function readCoreDumps(): CoreDumps {
  try {
    return coreDumpsFromLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return 'unknown';
  }
}
