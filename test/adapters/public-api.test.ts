import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '../../src/resource/types.ts';
import * as sources from '../../src/index.ts';

/** Compile-time: a principal is an MCP SDK AuthInfo as it is (README: "auth is an AuthInfo"). */
export const principalIsAuthInfo = (principal: Principal): AuthInfo => principal;

/**
 * The package's public API, pinned by name: adding or removing an export is a decision, so it must
 * show up here (and in README "Protect your own MCP server") rather than slip in with a refactor.
 */
const VALUES = [
  'ASYMMETRIC_ALGORITHMS',
  'DPOP_ALGORITHMS',
  'INVALID_TOKEN_DESCRIPTION',
  'POLICY_DENIED_CODE',
  'RemoteKeySet',
  'VerifierUnavailableError',
  'createDpopNonces',
  'createIntrospectionVerifier',
  'createJwksVerifier',
  'createMcpPolicy',
  'createResourceServer',
  'createStytchVerifier',
  'createToolPolicy',
  'discoverAuthorizationServerMetadata',
  'expressAuth',
  'expressMetadata',
  'expressToolPolicy',
  'honoAuth',
  'honoMetadata',
  'inMemoryReplayCheck',
  'metadataHandler',
  'nodeAuth',
  'nodeMetadata',
  'nodeToolPolicy',
  'protectedResourceMetadataUrlFor',
  'requestAuth',
  'stytchBaseUrl',
  'stytchIssuers',
  'withMcpAuth',
  'withVerifiedTokenCache',
];

const TYPES = [
  'AnonymousHandler',
  'AuthenticateOptions',
  'AuthenticationRequest',
  'AuthorizationServerMetadata',
  'Clock',
  'DebugLogger',
  'DpopChecker',
  'DpopNonces',
  'DpopReplayCheck',
  'HonoAuthOptions',
  'IntrospectionVerifierOptions',
  'JwksVerifierOptions',
  'McpPolicy',
  'McpPolicyOptions',
  'NextFunction',
  'NodeAuthOptions',
  'NodeRequestLike',
  'NodeResponseLike',
  'NodeStreamResponseLike',
  'PermissionCheck',
  'PermissionPolicy',
  'PolicyCaller',
  'PolicyCheck',
  'PolicyDecision',
  'PolicyPermission',
  'PolicyRule',
  'PolicyTarget',
  'PolicyTargetKind',
  'Principal',
  'ProtectedResourceMetadata',
  'PublicTargets',
  'RemoteKeySetOptions',
  'ResourceDpopOptions',
  'ResourceServer',
  'ResourceServerOptions',
  'SecurityScheme',
  'StytchVerifierOptions',
  'ToolPolicy',
  'ToolPolicyOptions',
  'TokenClaims',
  'TokenRejection',
  'TokenVerifier',
  'VerifiedToken',
  'VerifiedTokenCacheOptions',
  'VerifyResult',
  'WithMcpAuthOptions',
];

const sorted = (names: Iterable<string>): string[] => [...names].sort();

/** Every name in the `export { … } from` / `export type { … } from` lists of src/index.ts, and which are type-only. */
function declaredExports(): { all: string[]; typeOnly: string[] } {
  const text = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  assert.doesNotMatch(text, /export \*/, 'no export *: every public name is listed');
  const all: string[] = [];
  const typeOnly: string[] = [];
  for (const [, typeKeyword, list] of text.matchAll(/export (type )?\{([^}]*)\}/g)) {
    for (const item of list!.split(',').map((s) => s.trim()).filter(Boolean)) {
      const isType = typeKeyword !== undefined || item.startsWith('type ');
      const name = item.replace(/^type /, '').split(/\s+as\s+/).pop()!;
      all.push(name);
      if (isType) typeOnly.push(name);
    }
  }
  return { all, typeOnly };
}

describe('package entry point', () => {
  it('import { … } from "portcullis" resolves to the sources in this repository with the portcullis-source condition', async () => {
    assert.equal(await import('portcullis'), sources);
  });

  it('SHAPE-6 exports exactly the pinned values: a new or removed export fails here', () => {
    assert.deepEqual(sorted(Object.keys(sources)), sorted(VALUES));
  });

  it('SHAPE-6 exports exactly the pinned types', () => {
    const { all, typeOnly } = declaredExports();
    assert.deepEqual(sorted(typeOnly), sorted(TYPES));
    assert.deepEqual(sorted(all), sorted([...VALUES, ...TYPES]), 'src/index.ts lists nothing else');
  });
});
