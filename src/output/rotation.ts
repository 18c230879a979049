// `keepalive rotate` for one process: its --output file target rotated now, with what went wrong
// said back (a rotated name left alone, a rename that failed), for FILE.state and the command that
// asked. SIGHUP plays no part: it is the child's.
import type { RotatedFile } from '../core/instance-state.js';
import type { OutputEvent } from '../core/events.js';
import type { FileOutputSettings } from './types.js';

/** What a process's supervisor offers: its file target while it runs, and its output news. */
export interface RotatableProcess {
  readonly outputFile: { rotate(): Promise<void> } | undefined;
  on(event: 'output', listener: (event: OutputEvent) => void): unknown;
  off(event: 'output', listener: (event: OutputEvent) => void): unknown;
}

/** The files a process writes, as `keepalive rotate` names them. */
export function outputFileWords(settings: FileOutputSettings): string {
  return settings.stderrPath === undefined || settings.stderrPath === settings.path
    ? settings.path
    : `${settings.path}, ${settings.stderrPath}`;
}

/**
 * Rotates one process's files now. Without --output it has none (file null); between runs of a
 * set's process its file is not open, and is passed over (skipped).
 */
export async function rotateOutput(
  name: string,
  settings: FileOutputSettings | undefined,
  running: RotatableProcess | undefined,
): Promise<RotatedFile> {
  if (settings === undefined) return { name, file: null };
  const file = outputFileWords(settings);
  const target = running?.outputFile;
  if (running === undefined || target === undefined)
    return { name, file, skipped: 'does not run now' };
  const problems: string[] = [];
  const listen = (event: OutputEvent): void => {
    if (event.kind === 'left-alone') problems.push(`left ${event.path} alone: ${event.why}`);
    if (event.kind === 'failed') problems.push(event.message);
  };
  running.on('output', listen);
  try {
    await target.rotate();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    running.off('output', listen);
  }
  return problems.length === 0 ? { name, file } : { name, file, problem: problems.join('; ') };
}
