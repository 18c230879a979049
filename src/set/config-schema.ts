// The JSON Schema of a config file, from the option table (scripts/build-schema.mjs writes it to
// keepalive.schema.json at build time), so that an editor completes and checks the keys that
// keepalive reads. keepalive itself checks with its own rules; this only mirrors them.
import { formatDuration } from '../core/duration.js';
import {
  CONDITIONS,
  NOTIFY_ACCESS,
  NOTIFY_FD_RANGE,
  RESTART_MODES,
  type OptionSpec,
} from '../option-table.js';
import { FILE_KEYS, PROCESS_ONLY } from './config-keys.js';
import { NAME_RULE } from './set-rules.js';

type Schema = Record<string, unknown>;

const DURATION = { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)+$' };
const SIZE_UNITS = ['b', 'kb', 'mb', 'gb', 'tb', 'kib', 'mib', 'gib', 'tib'];
/** JSON Schema patterns have no flags: each letter of a unit in either case. */
const anyCase = (word: string): string =>
  [...word].map((letter) => `[${letter}${letter.toUpperCase()}]`).join('');
const SIZE = {
  type: 'string',
  pattern: `^\\s*\\d+(\\.\\d+)?\\s*(${SIZE_UNITS.map(anyCase).join('|')})\\s*$`,
};
const SIGNAL_NAME = { type: 'string', pattern: '^\\s*([Ss][Ii][Gg])?[A-Za-z0-9+]+\\s*$' };
const EXIT_ITEM = { anyOf: [{ type: 'integer', minimum: 0, maximum: 255 }, SIGNAL_NAME] };
/** Compose's extension fields (`x-env: &env ...`): a place for anchors, read by nothing. */
const EXTENSION = { '^x-': {} };
const CONDITION = { enum: [...CONDITIONS] };

function valueSchema(name: string, spec: OptionSpec): Schema {
  switch (name) {
    case 'command':
      return {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string' }, minItems: 1 },
        ],
      };
    case 'depends-on':
      return {
        anyOf: [
          {
            type: 'object',
            propertyNames: { pattern: NAME_RULE.pattern.source },
            additionalProperties: {
              anyOf: [
                CONDITION,
                {
                  type: 'object',
                  properties: { condition: CONDITION, restart: { type: 'boolean' } },
                  required: ['condition'],
                  additionalProperties: false,
                },
              ],
            },
          },
          { type: 'array', items: { type: 'string', pattern: NAME_RULE.pattern.source } },
        ],
      };
  }
  switch (spec.rule) {
    case 'duration':
    case 'positive-duration':
      return { anyOf: [DURATION, { const: 0 }] };
    case 'size':
      return SIZE;
    case 'count':
      return { type: 'integer', minimum: 0 };
    case 'retries':
      return { type: 'integer', minimum: 1 };
    case 'fd':
      return { type: 'integer', minimum: NOTIFY_FD_RANGE.min, maximum: NOTIFY_FD_RANGE.max };
    case 'signal':
      return { anyOf: [SIGNAL_NAME, { type: 'integer', minimum: 1 }] };
    case 'exit-codes':
      return {
        anyOf: [
          { type: 'string', pattern: '^[^,]+(,[^,]+)*$' },
          { type: 'array', items: EXIT_ITEM, minItems: 1 },
          { type: 'integer', minimum: 0, maximum: 255 },
        ],
      };
    case 'restart-mode':
      return { enum: [...RESTART_MODES] };
    case 'notify-access':
      return { enum: [...NOTIFY_ACCESS] };
    case 'output-format':
      return { enum: ['text', 'json'] };
    case 'url':
      return { type: 'string', pattern: '^https?://.+' };
    case 'boolean':
      return { type: 'boolean' };
    case 'account':
      return {
        anyOf: [
          { type: 'string', minLength: 1 },
          { type: 'integer', minimum: 0 },
        ],
      };
    case 'environment':
      return {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      };
    default:
      return { type: 'string', minLength: 1 };
  }
}

/** The default as the file would write it: 8s, 0,3, always. */
function defaultWords(spec: OptionSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (typeof value === 'number' && (spec.rule === 'duration' || spec.rule === 'positive-duration'))
    return value === 0 ? '0' : formatDuration(value);
  return Array.isArray(value) ? value.join(',') : String(value);
}

function properties(topLevel: boolean): Record<string, Schema> {
  return Object.fromEntries(
    [...FILE_KEYS]
      .filter(([name]) => !(topLevel && PROCESS_ONLY.has(name)))
      .map(([name, { spec }]) => {
        const defaultText = defaultWords(spec);
        const describe = spec.describe ?? '';
        const description =
          defaultText === undefined ? describe : `${describe} (default: ${defaultText})`;
        return [name, { description, ...valueSchema(name, spec) }];
      }),
  );
}

export function configSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'keepalive config file (keepalive -c FILE)',
    description:
      'A set of processes for keepalive. A key at the top level is the default for every process.',
    type: 'object',
    properties: {
      processes: {
        description: 'the processes, by name (letters, digits, - and _)',
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: NAME_RULE.pattern.source },
        additionalProperties: {
          type: 'object',
          properties: properties(false),
          required: ['command'],
          patternProperties: EXTENSION,
          additionalProperties: false,
        },
      },
      ...properties(true),
    },
    required: ['processes'],
    patternProperties: EXTENSION,
    additionalProperties: false,
  };
}
