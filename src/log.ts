// keepalive's own lines: text for people (coloured on a terminal), or one JSON object per event for
// machines, filtered by level. What each event says is log-words.ts's; the child's output never
// passes through here.
import type { ChalkInstance } from 'chalk';
import type { LogFormat, LogLevel } from './options.js';

interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  write: (line: string) => void;
  /** chalk level: 0 for none. */
  colorLevel: number;
}

export type Severity = 'info' | 'warn' | 'error' | 'debug';

export interface Logger {
  /**
   * Whether a line of this severity would be written: callers skip building messages that would
   * not.
   */
  enabled(severity: Severity): boolean;
  line(severity: Severity, event: string, message: string, fields?: Record<string, unknown>): void;
}

export async function createLogger(options: LoggerOptions): Promise<Logger> {
  // chalk is loaded only when there is colour to paint: most runs (pipes, files, JSON) have none.
  const paint =
    options.colorLevel > 0 && options.format === 'text'
      ? new (await import('chalk')).Chalk({ level: options.colorLevel as 1 | 2 | 3 })
      : undefined;
  const quiet = options.level === 'quiet';
  const verbose = options.level === 'verbose';
  const enabled = (severity: Severity): boolean =>
    quiet ? severity === 'error' : verbose || severity !== 'debug';
  return {
    enabled,
    line(severity, event, message, fields = {}) {
      if (!enabled(severity)) return;
      const text =
        options.format === 'json'
          ? jsonLine(severity, event, message, fields)
          : paint
            ? `${paint.dim('keepalive:')} ${colorize(paint, severity, message)}\n`
            : `keepalive: ${message}\n`;
      try {
        options.write(text);
      } catch {
        // A closed stderr or a full disk loses this line; it must not stop the supervising.
      }
    },
  };
}

/** One event object a line, keys in a stable order: time, level, event, message, then fields. */
function jsonLine(
  severity: Severity,
  event: string,
  message: string,
  fields: Record<string, unknown>,
): string {
  const head = { time: new Date().toISOString(), level: severity, event, message };
  return `${JSON.stringify({ ...head, ...fields })}\n`;
}

function colorize(paint: ChalkInstance, severity: Severity, message: string): string {
  if (severity === 'error') return paint.red(message);
  if (severity === 'warn') return paint.yellow(message);
  if (severity === 'debug') return paint.gray(message);
  return message;
}

/**
 * How many colours stderr takes: Node's own answer for a terminal (it honours NO_COLOR, FORCE_COLOR
 * and TERM); FORCE_COLOR alone can turn colour on for a pipe.
 */
export function colorLevel(
  env: NodeJS.ProcessEnv,
  stream: { isTTY?: boolean; getColorDepth?: (env?: NodeJS.ProcessEnv) => number },
): number {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === 'false' || force === '0') return 0;
    return force === '' || force === 'true'
      ? 1
      : Math.min(Math.max(Number.parseInt(force, 10) || 1, 1), 3);
  }
  if (!stream.isTTY || !stream.getColorDepth) return 0;
  const depth = stream.getColorDepth(env);
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}
