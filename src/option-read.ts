// An option's text as its value, the same for a flag and a config file's key: "5s" → 5000,
// "512MB" → 512000000, "TERM" → "SIGTERM", "0,3,SIGTERM" → codes and signals. The value is then
// checked against its rule (option-rules.ts) like any other; what cannot even be read is refused
// here, with what is accepted.
import { parseDuration } from './core/duration.js';
import { parseSize } from './core/size.js';
import { parseSignal } from './core/signals.js';
import { RULE_WORDS, type OptionKey, type OptionSpec } from './option-table.js';

export type Read =
  | { ok: true; values: Partial<Record<OptionKey, unknown>> }
  /** `why`: what follows the text as typed, "expected a duration with a unit, ...". */
  | { ok: false; why: string };

/** What a rule accepts, in words, with its example. */
export function expectedWords(spec: OptionSpec): string {
  const { expected, example } = RULE_WORDS[spec.rule];
  return example === undefined ? expected : `${expected}, such as ${example}`;
}

export function readOptionText(key: OptionKey, spec: OptionSpec, text: string): Read {
  const value = (parsed: { ok: true; value: unknown } | { ok: false; expected: string }): Read =>
    parsed.ok
      ? { ok: true, values: { [key]: parsed.value } }
      : { ok: false, why: `expected ${parsed.expected}` };
  const refused: Read = { ok: false, why: `expected ${expectedWords(spec)}` };
  switch (spec.read) {
    case 'duration':
      return value(parseDuration(text));
    case 'size':
      return value(parseSize(text));
    case 'number':
      return /^\d+$/.test(text.trim()) ? value({ ok: true, value: Number(text) }) : refused;
    case 'signal': {
      const signal = parseSignal(text);
      return signal ? value({ ok: true, value: signal }) : refused;
    }
    case 'word':
      return value({ ok: true, value: text.trim() });
    case 'codes':
      return readExitList(text);
    default:
      return value({ ok: true, value: text });
  }
}

/** "0,3,SIGTERM" → codes [0, 3] and signals [SIGTERM]. */
function readExitList(text: string): Read {
  const codes: number[] = [];
  const signals: string[] = [];
  for (const item of text.split(',').map((part) => part.trim())) {
    if (/^\d+$/.test(item) && Number(item) <= 255) {
      codes.push(Number(item));
      continue;
    }
    const signal = /^\d+$/.test(item) ? undefined : parseSignal(item);
    if (!signal)
      return {
        ok: false,
        why:
          `"${item}" is neither an exit code (0-255) nor a signal name; use a list such as ` +
          `${RULE_WORDS['exit-codes'].example}`,
      };
    signals.push(signal);
  }
  return { ok: true, values: { successCodes: codes, successSignals: signals } };
}
