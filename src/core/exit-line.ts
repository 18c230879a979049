// The exit event as a log line says it: its words, its severity and its JSON fields. Shared by the
// logger (log-words.ts) and the on-exit hook, which is told the same words and the same record.
import { formatDuration } from './duration.js';
import type { ExitEvent, Next } from './events.js';
import { describeOutcome, type Outcome } from './exit.js';
import { who } from './who.js';

export type ExitSeverity = 'error' | 'warn' | 'info';

/** "app[4321] crashed: SIGSEGV (Segmentation fault), status 139; restart 3 in 800ms" */
export function exitMessage(event: ExitEvent): string {
  return `${who(event.name, event.pid)} ${describeOutcome(event.outcome)}; ${nextWords(event.next)}`;
}

/** The fields of the JSON log's exit record, after time, level, event and message. */
export function exitFields(event: ExitEvent): Record<string, unknown> {
  return {
    name: event.name,
    pid: event.pid ?? null,
    outcome: event.outcome,
    status: event.status,
    uptimeMs: Math.round(event.uptimeMs),
    next: event.next,
  };
}

/** The exit record as `--log-format json` writes it, at `time` (ISO). */
export function exitRecord(event: ExitEvent, time: string): string {
  return JSON.stringify({
    time,
    level: exitSeverity(event),
    event: 'exit',
    message: exitMessage(event),
    ...exitFields(event),
  });
}

function nextWords(next: Next): string {
  switch (next.action) {
    case 'restart':
      return next.planned
        ? `restart ${next.restart} requested`
        : `restart ${next.restart} in ${formatDuration(next.delayMs)}`;
    case 'give-up':
      return `giving up: ${next.failures} failures in ${formatDuration(next.windowMs)}`;
    case 'end':
      return END_WORDS[next.reason];
  }
}

const END_WORDS: Record<Extract<Next, { action: 'end' }>['reason'], string> = {
  stopped: 'stopped',
  success: 'a clean end (--success-codes): not restarting',
  'no-restart': 'not restarting (--restart never)',
  'not-started': 'check the command and try again',
};

export function exitSeverity(event: ExitEvent): ExitSeverity {
  if (event.next.action === 'give-up') return 'error';
  if (event.next.action === 'end' && event.next.reason === 'not-started') return 'error';
  return isClean(event.outcome) ? 'info' : 'warn';
}

function isClean(outcome: Outcome): boolean {
  return outcome.kind === 'exited' && outcome.code === 0;
}
