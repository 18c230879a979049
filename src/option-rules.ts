// Whether a value keeps its option's rule (option-table.ts says which rule is whose).
import { MAX_DURATION_MS } from './core/duration.js';
import { parseSignal } from './core/signals.js';
import {
  CONDITIONS,
  MAX_NAME_LENGTH,
  NOTIFY_ACCESS,
  NOTIFY_FD_RANGE,
  RESTART_MODES,
  type Rule,
} from './option-table.js';

const isDuration = (value: unknown): value is number =>
  typeof value === 'number' && value >= 0 && value <= MAX_DURATION_MS;
const isWhole = (value: unknown): value is number => Number.isInteger(value);
const isSignal = (value: unknown): boolean =>
  typeof value === 'string' && parseSignal(value) === value;

const RULES: Record<Rule, (value: unknown) => boolean> = {
  duration: isDuration,
  'positive-duration': (value) => isDuration(value) && value > 0,
  // Infinity is the API's "no limit".
  count: (value) =>
    value === Number.POSITIVE_INFINITY || (isWhole(value) && (value as number) >= 0),
  retries: (value) => isWhole(value) && (value as number) >= 1,
  fd: (value) =>
    isWhole(value) &&
    (value as number) >= NOTIFY_FD_RANGE.min &&
    (value as number) <= NOTIFY_FD_RANGE.max,
  signal: isSignal,
  signals: (value) => Array.isArray(value) && value.every(isSignal),
  'exit-codes': (value) =>
    Array.isArray(value) && value.every((code) => isWhole(code) && code >= 0 && code <= 255),
  'restart-mode': (value) => (RESTART_MODES as readonly unknown[]).includes(value),
  'log-format': (value) => value === 'text' || value === 'json',
  'output-format': (value) => value === 'text' || value === 'json',
  'notify-access': (value) => (NOTIFY_ACCESS as readonly unknown[]).includes(value),
  url: (value) => typeof value === 'string' && isHttpUrl(value),
  command: (value) => typeof value === 'string' && value.trim() !== '',
  hook: (value) =>
    typeof value === 'function' || (typeof value === 'string' && value.trim() !== ''),
  size: (value) => Number.isSafeInteger(value) && (value as number) > 0,
  // U+FFFD is where Node replaced bytes that are not UTF-8: the file named would be another one.
  path: (value) => typeof value === 'string' && value.trim() !== '' && !value.includes('\uFFFD'),
  text: (value) => typeof value === 'string',
  name: (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH,
  words: (value) =>
    Array.isArray(value) &&
    value.every((word) => typeof word === 'string' || Buffer.isBuffer(word)),
  environment: (value) => typeof value === 'object' && value !== null,
  boolean: (value) => typeof value === 'boolean',
  // A name as the password database has it (useradd's rule, with the Samba machine's `$`), or an
  // id.
  account: (value) =>
    (typeof value === 'string' && /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/.test(value)) ||
    (isWhole(value) && (value as number) >= 0 && (value as number) < 2 ** 32 - 1),
  'depends-on': (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(isDependency),
};

const isCondition = (value: unknown): boolean => (CONDITIONS as readonly unknown[]).includes(value);

/** `healthy`, or compose's long form `{ condition: healthy, restart: true }`. */
function isDependency(value: unknown): boolean {
  if (isCondition(value)) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { condition, restart, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    isCondition(condition) &&
    (restart === undefined || typeof restart === 'boolean')
  );
}

export function checkValue(rule: Rule, value: unknown): boolean {
  return RULES[rule](value);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
