// Memory sizes as the CLI accepts them: a number and a unit, "512MB", "1.5GB", "800MiB". kB, MB, GB
// and TB are powers of 1000 and KiB, MiB, GiB, TiB powers of 1024, as the IEC writes them (the
// `bytes` package reads MB as 1024², and knows no MiB: it would say another size than the user's).
import type { Parsed } from './duration.js';

const SIZE_EXPECTED = 'a size with a unit, such as 512MB, 1.5GB or 800MiB';
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
const SIZE_FORM = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;

export function parseSize(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed))
    return { ok: false, expected: `${SIZE_EXPECTED} (did you mean ${trimmed}MB?)` };
  const match = SIZE_FORM.exec(trimmed);
  const unit = match ? UNITS[(match[2] as string).toLowerCase()] : undefined;
  if (!match || unit === undefined) return { ok: false, expected: SIZE_EXPECTED };
  const value = Math.round(Number(match[1]) * unit);
  if (value <= 0 || !Number.isSafeInteger(value))
    return { ok: false, expected: `${SIZE_EXPECTED}, above 0` };
  return { ok: true, value };
}

/** Short and readable: 812kB, 212MB (whole megabytes under 10 GB would hide nothing), 1.5GB. */
export function formatSize(bytes: number): string {
  if (bytes < 1e6) return `${Math.round(bytes / 1e3)}kB`;
  if (bytes < 1e9) return `${Math.round(bytes / 1e6)}MB`;
  return `${Math.round(bytes / 1e8) / 10}GB`;
}
