import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '../../src/resource/types.ts';

/** Compile-time: a principal is an MCP SDK AuthInfo as it is (README: "auth is an AuthInfo"). */
export const principalIsAuthInfo = (principal: Principal): AuthInfo => principal;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('package entry point', () => {
  it('import { … } from "portcullis" resolves to the sources in this repository with the portcullis-source condition', async () => {
    const script = "const m = await import('portcullis'); console.log(JSON.stringify(Object.keys(m).sort()));";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=portcullis-source', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 30_000 },
    );
    const names = JSON.parse(stdout) as string[];
    for (const name of ['createResourceServer', 'createJwksVerifier', 'createIntrospectionVerifier', 'createStytchVerifier', 'honoAuth', 'expressAuth', 'withMcpAuth', 'nodeAuth', 'VerifierUnavailableError']) {
      assert.ok(names.includes(name), `exports ${name}`);
    }
  });
});
