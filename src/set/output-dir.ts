// A set's `output-dir: DIR`: made before anything starts (mode 0750, parents too) and judged as the
// pidfile's directory is: DIR and every directory above it are keepalive's user's or root's, and
// no other user can write them (the sticky bit, as /tmp's, is accepted: others can only add names,
// and each process's file is then refused if it is not keepalive's).
import { mkdirSync } from 'node:fs';
import { checkDirectory } from '../guardian/safe-files.js';
import { describeError, InstanceError } from '../guardian/instance-files.js';
import type { SetOptions } from './types.js';

export const OUTPUT_DIR_MODE = 0o750;

/** Makes and checks each process's output-dir; an InstanceError (status 1) names the problem. */
export function prepareOutputDirs(set: SetOptions): void {
  const dirs = new Set(set.processes.flatMap((entry) => entry.outputDir ?? []));
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: OUTPUT_DIR_MODE });
      checkDirectory(dir);
    } catch (error) {
      throw new InstanceError(`cannot use output-dir ${dir}: ${describeError(error)}`);
    }
  }
}
