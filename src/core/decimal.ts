// A whole number's decimal digits, made without V8's number-to-string cache. String(n), `${n}` and
// n.toString() keep each result in that cache, in the old generation, until it is overwritten or a
// full GC runs: the new pid and restart count of each restart made a third of what outlived every
// scavenge, and V8 grows its young generation with what outlives scavenges.
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** The same text as String(n); only non-negative safe integers skip the cache. */
export function decimal(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return String(n);
  let text = '';
  let rest = n;
  do {
    const digit = rest % 10;
    text = DIGITS[digit] + text;
    rest = (rest - digit) / 10;
  } while (rest > 0);
  return text;
}

/** A /proc entry's name: a pid's digits, or a name such as 'self'. */
export function procName(entry: number | string): string {
  return typeof entry === 'number' ? decimal(entry) : entry;
}
