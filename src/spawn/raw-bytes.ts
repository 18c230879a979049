// Node decodes argv and environ as UTF-8 and replaces what is not with U+FFFD. On Linux the bytes
// keepalive was given are still in /proc/self/cmdline and /proc/self/environ: where a value lost
// bytes, the raw ones are passed on instead, so the child gets exactly what keepalive got.
import { readFileSync } from 'node:fs';

const REPLACED = '\uFFFD';

function entries(file: string): Buffer[] {
  try {
    const raw = readFileSync(file);
    const parts: Buffer[] = [];
    for (let start = 0; start < raw.length;) {
      const end = raw.indexOf(0, start);
      parts.push(raw.subarray(start, end < 0 ? raw.length : end));
      start = end < 0 ? raw.length : end + 1;
    }
    return parts;
  } catch {
    return [];
  }
}

/** The last arguments of keepalive's own command line, as bytes where Node's strings lost some. */
export function rawArguments(args: readonly string[]): Array<string | Buffer> {
  if (!args.some((arg) => arg.includes(REPLACED))) return [...args];
  const tail = entries('/proc/self/cmdline').slice(-args.length);
  return args.map((arg, index) => {
    const raw = tail[index];
    return arg.includes(REPLACED) && raw !== undefined && raw.toString('utf8') === arg ? raw : arg;
  });
}

/** The environment with each value that lost bytes in decoding given back as those bytes. */
export function rawEnvironment<T extends Record<string, string | undefined>>(
  env: T,
): Record<string, string | Buffer | undefined> {
  const damaged = Object.keys(env).filter((key) => env[key]?.includes(REPLACED));
  if (damaged.length === 0) return env;
  const raw = new Map<string, Buffer>();
  for (const entry of entries('/proc/self/environ')) {
    const equals = entry.indexOf(0x3d);
    if (equals > 0) raw.set(entry.subarray(0, equals).toString('utf8'), entry.subarray(equals + 1));
  }
  const restored: Record<string, string | Buffer | undefined> = { ...env };
  for (const key of damaged) {
    const bytes = raw.get(key);
    if (bytes !== undefined && bytes.toString('utf8') === env[key]) restored[key] = bytes;
  }
  return restored;
}
