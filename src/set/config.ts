// keepalive -c FILE: a YAML file as the set's options. The `yaml` package parses it and says where
// each key is; every key is an option-table row (config-keys.ts), read and checked as its flag is.
// A problem is one line naming the file, the line, the key's path and what is accepted, before
// anything starts: `keepalive.yaml:7: processes.web.depends-on: "dbb" is not a process; did you
// mean "db"?`. Precedence, lowest first: keepalive's defaults, flags on the command line, the
// file's top level, the process's own keys.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { closest } from '../core/edit-distance.js';
import { CONDITIONS, OPTIONS, type OptionKey, type OptionSpec } from '../option-table.js';
import { checkValue } from '../option-rules.js';
import { expectedWords } from '../option-read.js';
import { FILE_KEYS, KEEPALIVE_FLAGS, PROCESS_ONLY, readFileValue } from './config-keys.js';
import {
  buildProcess,
  ConfigError,
  checkDependencies,
  checkOutputFiles,
  emptyLayer,
  NAME_RULE,
  type Layer,
  type Origin,
  type SetDefaults,
} from './set-rules.js';
import type { Dependency, SetOptions } from './types.js';

const NAME_WORDS = NAME_RULE.words;

/** A node of the parsed file; `yaml`'s own types are wider than what is used here. */
type YamlNode = ReturnType<Document['createNode']> | null | undefined;

interface Place {
  file: string;
  lines: LineCounter;
  doc: Document;
}

export function readConfig(file: string, text: string, defaults: SetDefaults): SetOptions {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const [error] = doc.errors;
  if (error) {
    const line = error.linePos?.[0].line ?? 1;
    const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    throw new ConfigError(`${file}:${line}: not valid YAML: ${message}`);
  }
  const place: Place = { file, lines, doc };
  const at = (node: YamlNode, path: string, words: string): never => {
    throw new ConfigError(
      `${file}:${lineOf(place, node)}: ${path === '' ? '' : `${path}: `}${words}`,
    );
  };
  const root = resolve(place, doc.contents as YamlNode);
  if (root === null || root === undefined || (isScalar(root) && root.value === null))
    return at(root, '', 'the file is empty; it needs processes:, each name with its command');
  if (!isMap(root)) return at(root, '', 'expected keys (processes: and defaults for them)');
  let processesPair: { key: YamlNode; value: YamlNode } | undefined;
  const topPairs: Array<{ key: YamlNode; value: YamlNode; name: string }> = [];
  for (const pair of root.items) {
    const name = keyName(place, pair.key as YamlNode, '');
    if (name === 'processes')
      processesPair = { key: pair.key as YamlNode, value: pair.value as YamlNode };
    else topPairs.push({ key: pair.key as YamlNode, value: pair.value as YamlNode, name });
  }
  const top = readLayer(place, topPairs, '', true);
  if (processesPair === undefined)
    return at(root, 'processes', 'missing; name each process under processes:, with its command');
  const processes = resolve(place, processesPair.value);
  if (!isMap(processes) || processes.items.length === 0)
    return at(
      processesPair.key,
      'processes',
      isMap(processes) || processes === null || (isScalar(processes) && processes.value === null)
        ? 'empty; name each process under processes:, with its command'
        : 'expected process names, each with its keys (command: ...)',
    );
  const built = processes.items.map((pair) => {
    const keyNode = pair.key as YamlNode;
    const name = String(isScalar(keyNode) ? keyNode.value : '');
    const path = `processes.${NAME_RULE.pattern.test(name) ? name : JSON.stringify(name)}`;
    if (!NAME_RULE.pattern.test(name)) at(keyNode, path, `not a process name: ${NAME_WORDS}`);
    const body = resolve(place, pair.value as YamlNode);
    if (!isMap(body))
      return at(
        keyNode,
        path,
        'expected its keys, such as command: ./worker.sh (a string run by sh -c, or an argv list)',
      );
    const pairs = body.items.map((item) => ({
      key: item.key as YamlNode,
      value: item.value as YamlNode,
      name: keyName(place, item.key as YamlNode, path),
    }));
    const own = readLayer(place, pairs, path, false);
    return buildProcess(name, { line: lineOf(place, keyNode), path }, own, top, defaults, file);
  });
  checkDependencies(built, file);
  checkOutputFiles(built, file);
  return { processes: built.map(({ options }) => options) };
}

/** A key's text; a key that is not a plain word is refused. */
function keyName(place: Place, node: YamlNode, path: string): string {
  if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number'))
    return String(node.value);
  throw new ConfigError(
    `${place.file}:${lineOf(place, node)}: ${path === '' ? '' : `${path}: `}expected a key name`,
  );
}

/** An alias (`*defaults`) as the node it names. */
function resolve(place: Place, node: YamlNode): YamlNode {
  if (!isAlias(node)) return node;
  const named = node.resolve(place.doc) as YamlNode;
  if (named === undefined) unresolved(place, node);
  return named;
}

function unresolved(place: Place, node: YamlNode): never {
  const alias = isAlias(node) ? ` *${node.source}` : '';
  throw new ConfigError(
    `${place.file}:${lineOf(place, node)}: not valid YAML: the alias${alias} names no anchor ` +
      'set before it',
  );
}

function lineOf(place: Place, node: YamlNode): number {
  const offset = node && 'range' in node && node.range ? node.range[0] : 0;
  return place.lines.linePos(offset).line;
}

/** The keys of the top level or of one process, read and each checked against its rule. */
function readLayer(
  place: Place,
  pairs: ReadonlyArray<{ key: YamlNode; value: YamlNode; name: string }>,
  path: string,
  topLevel: boolean,
): Layer {
  const layer = emptyLayer();
  const prefix = path === '' ? '' : `${path}.`;
  for (const { key: keyNode, value: valueNode, name } of pairs) {
    const where: Origin = { kind: 'file', line: lineOf(place, keyNode), path: `${prefix}${name}` };
    const fail = (words: string, node: YamlNode = keyNode): never => {
      throw new ConfigError(`${place.file}:${lineOf(place, node)}: ${where.path}: ${words}`);
    };
    // Compose's extension fields: a place for anchors (`x-env: &env ...`), read by nothing.
    if (name.startsWith('x-')) continue;
    const fileKey = FILE_KEYS.get(name);
    if (fileKey === undefined) {
      const own = KEEPALIVE_FLAGS.get(name);
      if (own !== undefined)
        fail(`keepalive's own option, not a process's: give it as a flag (--${own.flag})`);
      if (name === 'name') fail('a process is named by its key under processes:; remove name');
      if (name === 'processes') fail('processes: belongs at the top level');
      const known = [...FILE_KEYS.keys(), ...(topLevel ? ['processes'] : [])];
      const near = closest(name, known);
      fail(
        near === undefined
          ? "unknown key; the keys are keepalive's flags without their dashes (keepalive --help)" +
              ' and command, depends-on, essential, ready-timeout, env, cwd'
          : `unknown key; did you mean "${near}"?`,
      );
      continue;
    }
    if (topLevel && PROCESS_ONLY.has(name))
      fail(`a process's own key: put it under processes.NAME, not at the top level`);
    const node = resolve(place, valueNode);
    const value = node === null || node === undefined ? null : toJS(place, node);
    if (value === null) fail('has no value');
    if (name === 'command') {
      layer.command = readCommand(value, fail, valueNode);
      layer.origins.set('command', where);
      continue;
    }
    if (name === 'depends-on') {
      layer.dependsOn = readDependsOn(place, node, where.path, fail);
      layer.origins.set('dependsOn', where);
      continue;
    }
    const read = readFileValue(fileKey, value);
    if (!read.ok) fail(`${shown(value)}: ${read.why}`, valueNode);
    else
      for (const [key, readValue] of Object.entries(read.values) as Array<[OptionKey, unknown]>) {
        const spec: OptionSpec = OPTIONS[key];
        if (!checkValue(spec.rule, readValue))
          fail(`${shown(value)}: expected ${expectedWords(spec)}`, valueNode);
        layer.values[key] = readValue;
        layer.origins.set(key, { ...where, typed: shown(value) });
      }
  }
  return layer;
}

function toJS(place: Place, node: NonNullable<YamlNode>): unknown {
  let value: unknown;
  try {
    value = (node as { toJS: (doc: Document) => unknown }).toJS(place.doc);
  } catch (error) {
    // yaml's bound on aliases (maxAliasCount, 100 by default) against a billion laughs.
    if (error instanceof ReferenceError && /alias count/i.test(error.message))
      throw new ConfigError(
        `${place.file}:${lineOf(place, node)}: too many aliases (*name) in one value; ` +
          'write the value out, or use fewer aliases',
      );
    // An alias within the value names no anchor.
    if (error instanceof ReferenceError) unresolved(place, node);
    throw error;
  }
  return value === undefined ? null : value;
}

/** A value as the file wrote it, never at length. */
export function shown(value: unknown): string {
  const text =
    typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
}

/** `command:` an argv list, or a string run by `sh -c`. */
function readCommand(
  value: unknown,
  fail: (words: string, node?: YamlNode) => never,
  node: YamlNode,
): { command: string; args: string[] } {
  if (typeof value === 'string' && value.trim() !== '')
    return { command: 'sh', args: ['-c', value] };
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((word) => typeof word === 'string' || typeof word === 'number') &&
    String(value[0]) !== ''
  )
    return { command: String(value[0]), args: value.slice(1).map(String) };
  return fail(
    `${shown(value)}: expected a command: a string run by sh -c, or an argv list such as ` +
      '["node", "server.js"]',
    node,
  );
}

/** `depends-on:` a map of names to conditions (or compose's long form), or a list of names. */
function readDependsOn(
  place: Place,
  node: YamlNode,
  path: string,
  fail: (words: string, node?: YamlNode) => never,
): Map<string, { dependency: Dependency; line: number }> {
  const expected =
    `expected process names, each with one of ${CONDITIONS.join(', ')}, such as { db: healthy }` +
    ', or a list of names (started)';
  const entries = new Map<string, { dependency: Dependency; line: number }>();
  if (isSeq(node)) {
    for (const item of node.items) {
      const name = isScalar(item) ? item.value : undefined;
      if (typeof name !== 'string')
        fail(`${shown(toJS(place, item as NonNullable<YamlNode>))}: ${expected}`, item as YamlNode);
      entries.set(name as string, {
        dependency: { condition: 'started', restart: false },
        line: lineOf(place, item as YamlNode),
      });
    }
    return entries;
  }
  if (!isMap(node))
    return fail(`${shown(toJS(place, node as NonNullable<YamlNode>))}: ${expected}`, node);
  for (const pair of node.items) {
    const name = keyName(place, pair.key as YamlNode, path);
    const value = toJS(place, resolve(place, pair.value as YamlNode) as NonNullable<YamlNode>);
    const line = lineOf(place, pair.key as YamlNode);
    if (!checkValue('depends-on', { [name]: value }))
      throw new ConfigError(`${place.file}:${line}: ${path}.${name}: ${shown(value)}: ${expected}`);
    const dependency: Dependency =
      typeof value === 'string'
        ? { condition: value as Dependency['condition'], restart: false }
        : {
            condition: (value as { condition: Dependency['condition'] }).condition,
            restart: (value as { restart?: boolean }).restart === true,
          };
    entries.set(name, { dependency, line });
  }
  return entries;
}

export { ConfigError };
