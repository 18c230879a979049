// The keys of a config file, from the option table: each process or set option's `key`, or else
// its flag. keepalive's own options (scope `keepalive`) are flags only. A key's value is read as
// its flag's text is (option-read.ts), so that `5s`, `512MB`, `TERM` and `0,3,SIGTERM` mean in a
// file what they mean on the command line.
import { OPTIONS, RULE_WORDS, type OptionKey, type OptionSpec } from '../option-table.js';
import { expectedWords, readOptionText, type Read } from '../option-read.js';

export interface FileKey {
  key: OptionKey;
  /** As the file writes it: `kill-timeout`, `depends-on`. */
  name: string;
  spec: OptionSpec;
}

/** The process name is its key under `processes:`, not a key of its own. */
const NOT_IN_FILE = new Set<OptionKey>(['name']);

const ROWS = (Object.keys(OPTIONS) as OptionKey[]).map((key) => ({
  key,
  spec: OPTIONS[key] as OptionSpec,
}));

/** Every key a process may have, by its name in the file, in the table's order. */
export const FILE_KEYS: ReadonlyMap<string, FileKey> = new Map(
  ROWS.flatMap(({ key, spec }) => {
    if (spec.scope === 'keepalive' || NOT_IN_FILE.has(key) || spec.key === false) return [];
    const name = spec.key ?? spec.flag;
    return name === undefined ? [] : [[name, { key, name, spec }] as const];
  }),
);

/** keepalive's own options, by flag: refused in a file, with the flag to give instead. */
export const KEEPALIVE_FLAGS: ReadonlyMap<string, OptionSpec> = new Map(
  ROWS.flatMap(({ spec }) =>
    spec.scope === 'keepalive' && spec.flag !== undefined ? [[spec.flag, spec] as const] : [],
  ),
);

/** A process's own keys, never a default for all at the top level. */
export const PROCESS_ONLY = new Set(['command', 'depends-on']);

/** How a key's value is read: its flag's reader, or the one its rule implies. */
function reader(spec: OptionSpec): OptionSpec['read'] {
  if (spec.read !== undefined) return spec.read;
  if (spec.rule === 'duration' || spec.rule === 'positive-duration') return 'duration';
  if (spec.rule === 'boolean') return 'switch';
  return undefined;
}

/**
 * A value from the file as its option's value (or values: `success-codes` gives codes and
 * signals). A string is read as the flag's text; a bare number is read as that text too, so that
 * `heartbeat: 5` is refused as `--heartbeat 5` is (seconds or milliseconds?) and `0` means zero.
 */
export function readFileValue({ key, spec }: FileKey, value: unknown): Read {
  const refused: Read = { ok: false, why: `expected ${expectedWords(spec)}` };
  const read = reader(spec);
  const as = (raw: unknown): Read => ({ ok: true, values: { [key]: raw } });
  switch (read) {
    case 'switch':
      return typeof value === 'boolean' ? as(value) : refused;
    case 'codes':
      if (Array.isArray(value) && value.every((item) => ['string', 'number'].includes(typeof item)))
        return value.length === 0 ? refused : readOptionText(key, spec, value.join(','));
      return isText(value) ? readOptionText(key, spec, String(value)) : refused;
    case 'number':
      return typeof value === 'number'
        ? as(value)
        : isText(value)
          ? readOptionText(key, spec, String(value))
          : refused;
    case 'duration':
    case 'size':
    case 'signal':
      return isText(value) ? readOptionText(key, { ...spec, read }, String(value)) : refused;
    case 'word':
    case 'text':
      // A uid or gid may be a number.
      if (spec.rule === 'account' && typeof value === 'number') return as(value);
      return typeof value === 'string' ? readOptionText(key, spec, value) : refused;
    default:
      if (spec.rule === 'environment') return readEnvironment(key, value);
      return as(value);
  }
}

const isText = (value: unknown): boolean => typeof value === 'string' || typeof value === 'number';

/** `env:` values are strings; a number or a boolean is taken as its text (`PORT: 3000`). */
function readEnvironment(key: OptionKey, value: unknown): Read {
  const refused: Read = {
    ok: false,
    why: `expected ${RULE_WORDS.environment.expected}: NAME: value, each value a text`,
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refused;
  const env: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof text)) return refused;
    env[name] = String(text);
  }
  return { ok: true, values: { [key]: env } };
}
