// keepalive --procfile FILE: foreman's and honcho's format, `name: command` a line, each command
// run by `sh -c`, with keepalive's defaults and the command line's per-process flags. Blank lines
// and lines starting with # are skipped; any other line that is not `name: command` is refused
// with its line number.
import {
  buildProcess,
  checkDependencies,
  checkOutputFiles,
  ConfigError,
  emptyLayer,
  NAME_RULE,
  type SetDefaults,
} from './set-rules.js';
import type { SetOptions } from './types.js';

const LINE = /^([^:\s]+)\s*:(.*)$/;

export function readProcfile(file: string, text: string, defaults: SetDefaults): SetOptions {
  const seen = new Map<string, number>();
  const built = text.split(/\r?\n/).flatMap((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return [];
    const at = `${file}:${line}: `;
    const match = LINE.exec(trimmed);
    if (!match)
      throw new ConfigError(
        `${at}${JSON.stringify(clip(trimmed))} is not "name: command"; write each process as ` +
          'web: node server.js',
      );
    const [, name = '', rest = ''] = match;
    const command = rest.trim();
    if (!NAME_RULE.pattern.test(name))
      throw new ConfigError(
        `${at}${JSON.stringify(clip(name))} is not a process name: ${NAME_RULE.words}`,
      );
    const earlier = seen.get(name);
    if (earlier !== undefined)
      throw new ConfigError(
        `${at}${name} is named again (first on line ${earlier}); give each process its own name`,
      );
    seen.set(name, line);
    if (command === '') throw new ConfigError(`${at}${name} has no command after its colon`);
    const own = { ...emptyLayer(), command: { command: 'sh', args: ['-c', command] } };
    return [buildProcess(name, { line, path: name }, own, emptyLayer(), defaults, file)];
  });
  if (built.length === 0)
    throw new ConfigError(`${file}:1: no processes; write one a line, such as web: node server.js`);
  checkDependencies(built, file);
  checkOutputFiles(built, file);
  return { processes: built.map(({ options }) => options) };
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 40)}...` : text;
}
