// Shared by the --output tests: a child writing sequence-numbered lines into a file target, and the
// files read back (FILE.N ... FILE.1, then FILE: the order they were written in).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ExecutionContext } from 'ava';
import type { OutputTarget } from '../../src/output/types.js';
import { fixture } from '../helpers/keepalive.js';

export const SEQ_LINE = /^seq (\d{8}) \.+$/;

/** Runs seq-lines.mjs into `output`; settles with its own report once its output is written. */
export async function writeSeq(
  t: ExecutionContext,
  output: OutputTarget,
  args: readonly (string | number)[],
): Promise<{ lines: number; longestWriteMs: number }> {
  const child = spawn(process.execPath, [fixture('seq-lines.mjs'), ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, SEQ_REPORT: '1' },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let report = '';
  (child.stdio[3] as import('node:stream').Readable | null)
    ?.setEncoding('utf8')
    .on('data', (chunk: string) => (report += chunk));
  const { stdout, stderr } = child;
  if (!stdout || !stderr) throw new Error('no pipes');
  const followed = output.follow({ name: 'seq', pid: child.pid ?? 0 }, { stdout, stderr });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await Promise.all([followed, exited]);
  return JSON.parse(report) as { lines: number; longestWriteMs: number };
}

/** Every file of FILE's chain, oldest first, gzipped ones read back; their text joined. */
export function readChain(path: string, keep: number): { text: string; files: number } {
  const parts: string[] = [];
  for (let index = keep; index >= 1; index--) {
    const plain = `${path}.${index}`;
    if (existsSync(`${plain}.gz`)) parts.push(gunzipSync(readFileSync(`${plain}.gz`)).toString());
    else if (existsSync(plain)) parts.push(readFileSync(plain, 'utf8'));
  }
  if (existsSync(path)) parts.push(readFileSync(path, 'utf8'));
  return { text: parts.join(''), files: parts.length };
}

/** The sequence numbers in `text`, each line checked whole (100 bytes, nothing else in it). */
export function seqNumbers(t: ExecutionContext, text: string): number[] {
  const lines = text.split('\n');
  t.is(lines.pop(), '', 'the text ends with a whole line');
  return lines.map((line) => {
    const match = SEQ_LINE.exec(line);
    if (!match || line.length !== 99) t.fail(`a torn or foreign line: ${JSON.stringify(line)}`);
    return Number(match?.[1]);
  });
}
