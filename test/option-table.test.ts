// The option table is the one place of every default: the README's option tables must say the same.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { helpDefault } from '../src/cli-help.js';
import { OPTIONS, type OptionKey, type OptionSpec } from '../src/option-table.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test("every default the README's option tables give is the table's", (t) => {
  const byFlag = new Map(
    (Object.keys(OPTIONS) as OptionKey[]).map((key) => [
      (OPTIONS[key] as OptionSpec).flag,
      OPTIONS[key] as OptionSpec,
    ]),
  );
  let compared = 0;
  for (const [, flag, shown] of readme.matchAll(/^\| `--([\w-]+)[^`]*` \| ([^|]*) \|/gm)) {
    const spec = byFlag.get(flag);
    const expected = spec && helpDefault(spec);
    if (expected === undefined) continue;
    t.is(shown?.trim().replace(/`/g, ''), expected, `--${flag}`);
    compared++;
  }
  t.true(compared >= 14, `${compared} defaults compared`);
});
