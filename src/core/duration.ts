// Durations as the CLI accepts them: a number with a unit ("250ms", "1s", "1.5m", "2h").
// A bare "0" means zero; any other bare number is ambiguous (seconds? milliseconds?) and rejected.
import parse from 'parse-duration';

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const DURATION_EXPECTED = 'a duration with a unit, such as 250ms, 1s, 1.5m or 2h';
/** One or more number-and-unit parts: "250ms", "1.5m", "1h30m", "10 s". */
const DURATION_FORM = /^(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$/;
/** setTimeout's limit (2^31 - 1 ms, about 24.8 days): longer, and Node fires it after 1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export function parseDuration(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (trimmed === '0') return { ok: true, value: 0 };
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    return {
      ok: false,
      expected: `${DURATION_EXPECTED} (did you mean ${trimmed}s or ${trimmed}ms?)`,
    };
  }
  // parse-duration reads "1,5s" as 15s and skips words it does not know: only plain forms get to
  // it.
  if (!DURATION_FORM.test(trimmed)) return { ok: false, expected: DURATION_EXPECTED };
  const value = parse(trimmed);
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { ok: false, expected: DURATION_EXPECTED };
  if (value > MAX_DURATION_MS)
    return { ok: false, expected: `a duration of at most 24d (Node's timers cannot wait longer)` };
  return { ok: true, value: Math.round(value) };
}

/**
 * Short and readable, not exact: 0ms, 800ms, 1.5s (tenths under a minute), 1m30s, 2h; from a minute
 * on, whole seconds are kept and the rest dropped (61.5s is "1m1s"). Never rounds 90s up to "2m".
 */
export function formatDuration(milliseconds: number): string {
  const total = Math.max(0, Math.round(milliseconds));
  if (total < 1000) return `${total}ms`;
  if (total < 60_000) return `${trimDecimals(total / 1000)}s`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (seconds > 0) parts.push(`${seconds}s`);
  return parts.join('');
}

function trimDecimals(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}
