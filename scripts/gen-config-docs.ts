/**
 * Renders docs/configuration.md from the config schema (src/config/schema.ts), the single source of
 * truth for settings, defaults and descriptions. `npm run docs:config` rewrites the file;
 * `--check` only compares and exits 1 when it is stale (test/config/docs.test.ts does the same).
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
}

/** A description starts with where the setting comes from ("PORTCULLIS_PORT." or "Config file only."). */
function splitDescription(description: string): { source: string; text: string } {
  const end = description.indexOf('. ');
  const head = end < 0 ? '' : description.slice(0, end);
  if (/\b[A-Z][A-Z0-9_]{2,}\b/.test(head) || /^Config file only$/.test(head)) return { source: head, text: description.slice(end + 2) };
  return { source: '', text: description };
}

/** Environment variable names in backticks, everything else as written. */
function formatSource(source: string): string {
  if (!source) return 'config file only';
  if (source === 'Config file only') return 'config file only';
  return source.replace(/\b([A-Z][A-Z0-9_]{2,})\b/g, '`$1`');
}

// JSON Schema's "no upper bound" for integers is Number.MAX_SAFE_INTEGER; do not print it.
const bound = (n: number | undefined): string | null => (n === undefined || n >= Number.MAX_SAFE_INTEGER ? null : n.toLocaleString('en-US'));

function describeType(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  switch (s.type) {
    case 'string':
      return s.format === 'uri' ? 'URL' : 'string';
    case 'integer':
    case 'number': {
      const [min, max] = [bound(s.minimum), bound(s.maximum)];
      const range = min !== null && max !== null ? ` (${min}–${max})` : min !== null ? ` (≥ ${min})` : max !== null ? ` (≤ ${max})` : '';
      return `${s.type}${range}`;
    }
    case 'boolean':
      return 'boolean';
    case 'array':
      return s.items?.type === 'object' ? `list of { ${Object.keys(s.items.properties ?? {}).join(', ')} }` : `list of ${s.items ? describeType(s.items) : 'values'}s`;
    case 'object':
      return `{ ${Object.entries(s.properties ?? {})
        .map(([k, v]) => `${k}: ${describeType(v)}`)
        .join(', ')} }`;
    default:
      return s.type ?? 'value';
  }
}

function describeDefault(s: JsonSchema): string {
  return s.default === undefined ? '—' : `\`${JSON.stringify(s.default)}\``;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfigDocs(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const settings = Object.entries(schema.properties ?? {});
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit: a test fails when this file is stale. -->',
    '',
    'Portcullis reads its settings from environment variables and, optionally, a JSON file named by',
    '`PORTCULLIS_CONFIG` whose keys are the setting names below. The environment wins over the file. Every',
    'setting is validated at start, and a bad value stops the server with a message naming the setting and its',
    'variable. A `PORTCULLIS_` variable or a file key that is no setting stops it too, naming the nearest valid one.',
    '`portcullis config check` (`npm run portcullis -- config check`) prints the configuration in force and checks',
    'that the database answers and takes writes.',
    '',
    '| Setting | Environment variable | Default |',
    '|---|---|---|',
  ];
  for (const [name, s] of settings) {
    out.push(`| [\`${name}\`](#${name.toLowerCase()}) | ${cell(formatSource(splitDescription(s.description ?? '').source))} | ${cell(describeDefault(s))} |`);
  }
  for (const [name, s] of settings) {
    const { source, text } = splitDescription(s.description ?? '');
    out.push('', `## ${name}`, '', text, '', `- Environment: ${formatSource(source)}`, `- Type: ${describeType(s)}`, `- Default: ${describeDefault(s)}`);
  }
  return out.join('\n') + '\n';
}

const isEntryPoint = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntryPoint) {
  const fresh = renderConfigDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== fresh) {
      process.stderr.write('docs/configuration.md is stale: run npm run docs:config\n');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(CONFIG_DOCS_PATH, fresh);
    process.stdout.write(`wrote ${CONFIG_DOCS_PATH}\n`);
  }
}
