// A process of a set from its layers of options, and the rules between processes: what each
// depends on exists, can get there, and waits in no cycle. Shared by the config file (config.ts)
// and the Procfile (procfile.ts); a problem is one line with the file and the line.
import { isAbsolute, join, resolve } from 'node:path';
import { closest } from '../core/edit-distance.js';
import { startOrder } from '../core/start-order.js';
import { CONFLICTS, OPTIONS, type OptionKey, type OptionSpec } from '../option-table.js';
import { checkOptions, OptionError, problemWords, UsageError } from '../options.js';
import type { Dependency, ProcessOptions } from './types.js';

/** A mistake in a config file or a Procfile: one line, status 2, before anything starts. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/**
 * A process name goes before each of its output lines and into `keepalive restart NAME`: plain
 * words only, and short enough for a prefix.
 */
export const NAME_RULE = {
  pattern: /^[A-Za-z0-9_-]{1,64}$/,
  words: 'use letters, digits, - and _ (1 to 64 of them)',
};

/** Where a value came from: a key in the file, or a flag on the command line. */
export type Origin =
  { kind: 'file'; line: number; path: string; typed?: string } | { kind: 'flag'; typed?: string };

/** The options one level gives: the command line's flags, the file's top level, a process. */
export interface Layer {
  values: Partial<Record<OptionKey, unknown>>;
  origins: Map<OptionKey, Origin>;
  command: { command: string; args: string[] } | undefined;
  dependsOn: Map<string, { dependency: Dependency; line: number }> | undefined;
}

export const emptyLayer = (): Layer => ({
  values: {},
  origins: new Map(),
  command: undefined,
  dependsOn: undefined,
});

/** What the command line gives every process of a set. */
export interface SetDefaults {
  /** Per-process flags: defaults under the file's own keys. */
  flags: Layer;
  /** keepalive's environment, which a process's `env` adds to. */
  env: NodeJS.ProcessEnv;
  /** The file's directory: a relative `cwd` is from there. */
  baseDir: string;
  /** keepalive's --no-subreaper, as each process's supervisor takes it. */
  subreaper: boolean;
}

export interface BuiltProcess {
  options: ProcessOptions;
  /** The line of its name, and its key path (`processes.web`, or `web` in a Procfile). */
  line: number;
  path: string;
  dependsOn: Map<string, { dependency: Dependency; line: number }>;
}

/** Lowest first: the later layer's value wins. */
const RANKS = ['flags', 'top', 'own'] as const;

export function buildProcess(
  name: string,
  where: { line: number; path: string },
  own: Layer,
  top: Layer,
  defaults: SetDefaults,
  file: string,
): BuiltProcess {
  const layers = [defaults.flags, top, own];
  const values: Partial<Record<OptionKey, unknown>> = {};
  const origins = new Map<OptionKey, Origin>();
  const rank = new Map<OptionKey, number>();
  layers.forEach((layer, index) => {
    for (const [key, value] of Object.entries(layer.values) as Array<[OptionKey, unknown]>) {
      values[key] = value;
      rank.set(key, index);
      const origin = layer.origins.get(key);
      if (origin) origins.set(key, origin);
    }
  });
  const drop = (key: OptionKey): void => {
    delete values[key];
    rank.delete(key);
  };
  // A process's own health-cmd replaces an inherited health-url: the nearer choice wins.
  for (const [a, b] of CONFLICTS) {
    const [rankA, rankB] = [rank.get(a), rank.get(b)];
    if (rankA !== undefined && rankB !== undefined && rankA !== rankB) drop(rankA < rankB ? a : b);
  }
  const outputDir = nameOutputFile(name, values, rank, origins, defaults.baseDir);
  // An inherited default that needs what this process lacks (health-interval, no health check)
  // does not apply to it; the process's own key still must have what it needs.
  for (const key of Object.keys(values) as OptionKey[]) {
    const spec: OptionSpec = OPTIONS[key];
    const needs = spec.needs as readonly OptionKey[] | undefined;
    if (needs && rank.get(key) !== RANKS.indexOf('own') && !needs.some((n) => n in values))
      drop(key);
  }
  // Within one process's line, keys by their own names; a flag as typed.
  const nameOf = (key: OptionKey): string => {
    const spec: OptionSpec = OPTIONS[key];
    if (origins.get(key)?.kind === 'flag') return `--${spec.flag ?? key}`;
    return spec.key || spec.flag || key;
  };
  const valueOf = (key: OptionKey, value: unknown): string => {
    const origin = origins.get(key);
    return origin?.typed ?? JSON.stringify(value);
  };
  try {
    checkOptions(values);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    const { problem } = error;
    const key =
      problem.kind === 'conflict'
        ? problem.keys[1]
        : problem.kind === 'order'
          ? problem.high
          : problem.key;
    const origin = origins.get(key);
    const line = origin?.kind === 'file' ? origin.line : where.line;
    const words = problemWords(problem, nameOf, valueOf);
    throw new ConfigError(`${file}:${line}: ${where.path}: ${words}`);
  }
  if (own.command === undefined)
    throw new ConfigError(
      `${file}:${where.line}: ${where.path}: no command; add command: (a string run by sh -c, ` +
        'or an argv list)',
    );
  const env = { ...defaults.env, ...(top.values.env ?? {}), ...(own.values.env ?? {}) };
  const cwd = values.cwd as string | undefined;
  const options = {
    ...values,
    name,
    command: own.command.command,
    args: own.command.args,
    env,
    cwd: cwd === undefined || isAbsolute(cwd) ? cwd : resolve(defaults.baseDir, cwd),
    subreaper: defaults.subreaper,
    // As for a single command on the command line: the process's tree may say READY=1.
    notifyAccess: values.notifyAccess ?? 'all',
    ...(outputDir === undefined ? {} : { outputDir }),
    dependsOn: Object.fromEntries(
      [...(own.dependsOn ?? [])].map(([other, { dependency }]) => [other, dependency]),
    ),
  } as unknown as ProcessOptions;
  return { options, line: where.line, path: where.path, dependsOn: own.dependsOn ?? new Map() };
}

/**
 * output-dir: DIR names the process's file, DIR/NAME.log, unless the process has its own output:
 * (CONFLICTS keeps the nearer of the two). Relative paths are from the file's directory, as cwd's.
 */
function nameOutputFile(
  name: string,
  values: Partial<Record<OptionKey, unknown>>,
  rank: Map<OptionKey, number>,
  origins: Map<OptionKey, Origin>,
  baseDir: string,
): string | undefined {
  for (const key of ['output', 'outputStderr', 'outputDir'] as const) {
    const path = values[key];
    if (typeof path === 'string') values[key] = resolve(baseDir, path);
  }
  const dir = values.outputDir as string | undefined;
  // Both from one level: checkOptions says they exclude each other.
  if (dir === undefined || values.output !== undefined) return undefined;
  // Not an option of the process's supervisor: the set makes DIR before it starts.
  delete values.outputDir;
  values.output = join(dir, `${name}.log`);
  rank.set('output', rank.get('outputDir') ?? 0);
  rank.delete('outputDir');
  const origin = origins.get('outputDir');
  if (origin) origins.set('output', origin);
  return dir;
}

const hasHealthCheck = (options: ProcessOptions): boolean =>
  options.healthCmd !== undefined || options.healthUrl !== undefined;

/**
 * No two processes write one file: each writer rotates its own (a shared --output flag, or a
 * top-level output:, would have every process rename the others' lines away).
 */
export function checkOutputFiles(processes: readonly BuiltProcess[], file: string): void {
  const owners = new Map<string, string>();
  for (const built of processes) {
    const { name } = built.options;
    const paths = [built.options.output, built.options.outputStderr];
    for (const path of paths) {
      if (path === undefined) continue;
      const owner = owners.get(path);
      if (owner !== undefined && owner !== name)
        throw new ConfigError(
          `${file}:${built.line}: ${built.path}: its output file ${path} is ${owner}'s too; ` +
            'each process needs a file of its own (output-dir: DIR gives each DIR/NAME.log)',
        );
      owners.set(path, name);
    }
  }
}

/** What each process waits for exists, can get there, and no wait is a cycle. */
export function checkDependencies(processes: readonly BuiltProcess[], file: string): void {
  const byName = new Map(processes.map((built) => [built.options.name, built]));
  for (const built of processes) {
    for (const [other, { dependency, line }] of built.dependsOn) {
      const at = `${file}:${line}: ${built.path}.depends-on: `;
      const target = byName.get(other);
      if (target === undefined) {
        const near = closest(other, byName.keys());
        throw new ConfigError(
          `${at}"${other}" is not a process; ` +
            (near === undefined
              ? `the processes are ${[...byName.keys()].join(', ')}`
              : `did you mean "${near}"?`),
        );
      }
      const { condition } = dependency;
      if (condition === 'completed' && (target.options.restart ?? 'always') === 'always')
        throw new ConfigError(
          `${at}"${other}" never completes: its restart is always` +
            `${target.options.restart === undefined ? ' (the default)' : ''}; give ${other} ` +
            'restart: on-failure or never, or wait for it to be started or ready',
        );
      if (condition === 'healthy' && !hasHealthCheck(target.options))
        throw new ConfigError(
          `${at}"${other}" has no health check to pass; give ${other} health-cmd or ` +
            'health-url, or wait for it to be started or ready',
        );
    }
  }
  const order = startOrder(
    processes.map((built) => ({ name: built.options.name, needs: [...built.dependsOn.keys()] })),
  );
  if (!order.ok) {
    const [first, second] = order.cycle as [string, string];
    const built = byName.get(first) as BuiltProcess;
    const line = built.dependsOn.get(second)?.line ?? built.line;
    throw new ConfigError(
      `${file}:${line}: ${built.path}.depends-on: a cycle: ${order.cycle.join(' -> ')}; ` +
        'one of them must not wait for the next',
    );
  }
}
