// A set's output files before anything starts. `output-dir: DIR` is made (mode 0750, parents too)
// and judged as the pidfile's directory is: DIR and every directory above it are keepalive's
// user's or root's, and no other user can write them (the sticky bit, as /tmp's, is accepted:
// others can only add names there, and each file is then refused if it is not keepalive's). Each
// process's file is then opened once and closed, so that a refused one is one line with nothing
// started, not a process that cannot start among others that did.
import { mkdirSync } from 'node:fs';
import { checkDirectory } from '../guardian/safe-files.js';
import { describeError, InstanceError } from '../guardian/instance-files.js';
import { resolveOptions } from '../options.js';
import type { SetOptions } from './types.js';

export const OUTPUT_DIR_MODE = 0o750;

/** Makes and checks each output-dir, then tries each file; an error (status 1) says what failed. */
export async function prepareOutputFiles(set: SetOptions): Promise<void> {
  const dirs = new Set(set.processes.flatMap((entry) => entry.outputDir ?? []));
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: OUTPUT_DIR_MODE });
      checkDirectory(dir);
    } catch (error) {
      throw new InstanceError(`cannot use output-dir ${dir}: ${describeError(error)}`);
    }
  }
  const withFiles = set.processes.filter((entry) => entry.output !== undefined);
  if (withFiles.length === 0) return;
  const { FileOutput } = await import('../output/file.js');
  for (const entry of withFiles) {
    const { dependsOn: _d, essential: _e, readyTimeout: _r, outputDir: _o, ...single } = entry;
    const settings = resolveOptions(single).outputFile;
    if (settings === undefined) continue;
    // Opened as its supervisor will open it (OutputFileError: said as --output's refusal is).
    await new FileOutput(settings).close(0);
  }
}
