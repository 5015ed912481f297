import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.ts';
import { ENV_VARS } from '../../src/config/env.ts';
import { configSchema } from '../../src/config/schema.ts';
import { READ_VARIABLES } from '../helpers/read-variables.ts';

describe('docs/configuration.md', () => {
  const rendered = renderConfigDocs();

  it('is exactly what the config schema renders to (run `npm run docs:config` after changing a setting)', () => {
    assert.equal(readFileSync(CONFIG_DOCS_PATH, 'utf8'), rendered);
  });

  it('documents every setting of the schema, each with a description', () => {
    for (const [name, schema] of Object.entries(configSchema.shape)) {
      assert.ok(schema.description, `${name} has no description`);
      assert.match(rendered, new RegExp(`^## ${name}$`, 'm'));
    }
  });

  it('names every environment variable the loader reads, and PORTCULLIS_CONFIG', () => {
    for (const name of [...ENV_VARS, 'PORTCULLIS_CONFIG']) assert.ok(rendered.includes(`\`${name}\``), `${name} is not documented`);
  });
});

describe('README.md', () => {
  it('names only environment variables that the loader really reads', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const named = new Set(readme.match(/\b(?:PORTCULLIS_[A-Z_]+|DATABASE_URL|PORT|HOST|LOG_LEVEL)\b/g) ?? []);
    assert.ok(named.size > 3, 'the README documents some settings');
    for (const name of named) assert.ok(READ_VARIABLES.has(name), `README names ${name}, which nothing reads`);
  });
});
