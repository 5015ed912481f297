import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.ts';
import { ENV_VARS } from '../../src/config/env.ts';
import { configSchema } from '../../src/config/schema.ts';

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
