/**
 * `portcullis`: protect your own MCP server with OAuth tokens from any authorization server
 * (Stytch, any OAuth/OIDC server, or a Portcullis server). See README "Protect your own MCP server".
 *
 * 1. Pick a verifier: `createStytchVerifier`, `createJwksVerifier` (JWT access tokens),
 *    `createIntrospectionVerifier` (RFC 7662), or your own `TokenVerifier`.
 * 2. `createResourceServer({ resource, authorizationServers, verifier, … })`; DPoP-bound tokens
 *    (RFC 9449) are accepted with their proofs, and `dpop: { required: true }` refuses bearer ones.
 * 3. Mount it with an adapter: `honoAuth`, `expressAuth`, `withMcpAuth` (fetch-style), `nodeAuth`.
 * 4. Optionally, tool-level authorization: `createMcpPolicy(rs, { rules })` as the `toolPolicy` of
 *    `honoAuth` or `withMcpAuth`, or with `expressToolPolicy` / `nodeToolPolicy`; with `public`
 *    targets, every adapter's `anonymous` option serves callers without a token.
 */

export {
  createResourceServer,
  INVALID_TOKEN_DESCRIPTION,
  type AuthenticateOptions,
  type AuthenticationRequest,
  type ResourceServer,
  type ResourceServerOptions,
} from './resource/resource-server.ts';
export {
  VerifierUnavailableError,
  type DebugLogger,
  type PermissionCheck,
  type PermissionPolicy,
  type Principal,
  type TokenClaims,
  type TokenRejection,
  type TokenVerifier,
  type VerifiedToken,
  type VerifyResult,
} from './resource/types.ts';
export { protectedResourceMetadataUrlFor, type ProtectedResourceMetadata } from './resource/metadata.ts';
export type { DpopChecker, ResourceDpopOptions } from './resource/dpop.ts';
export { DPOP_ALGORITHMS, inMemoryReplayCheck, type DpopReplayCheck } from './dpop/proof.ts';
export { createDpopNonces, type DpopNonces } from './dpop/nonces.ts';

export { ASYMMETRIC_ALGORITHMS, createJwksVerifier, type JwksVerifierOptions } from './resource/verifiers/jwks.ts';
export { createIntrospectionVerifier, type IntrospectionVerifierOptions } from './resource/verifiers/introspection.ts';
export { createStytchVerifier, stytchBaseUrl, stytchIssuers, type StytchVerifierOptions } from './resource/verifiers/stytch.ts';
export { withVerifiedTokenCache, type VerifiedTokenCacheOptions } from './resource/verifiers/cached.ts';
export { discoverAuthorizationServerMetadata, type AuthorizationServerMetadata } from './resource/verifiers/discovery.ts';
export { RemoteKeySet, type RemoteKeySetOptions } from './resource/verifiers/remote-key-set.ts';

export { createMcpPolicy, type McpPolicy, type McpPolicyOptions } from './policy/mcp-policy.ts';
export { createToolPolicy, type ToolPolicy, type ToolPolicyOptions } from './policy/decide.ts';
export { POLICY_DENIED_CODE, type PolicyCheck } from './policy/enforce.ts';
export type { PolicyCaller, PolicyDecision, PolicyPermission, PolicyRule, PolicyTarget, PolicyTargetKind, PublicTargets } from './policy/types.ts';
export type { SecurityScheme } from './policy/security-schemes.ts';

export { honoAuth, honoMetadata, type HonoAuthOptions } from './adapters/hono.ts';
export { expressAuth, expressMetadata, expressToolPolicy, requestAuth, type NextFunction } from './adapters/express.ts';
export { metadataHandler, withMcpAuth, type WithMcpAuthOptions } from './adapters/fetch.ts';
export type { AnonymousHandler } from './adapters/anonymous.ts';
export { nodeAuth, nodeMetadata, nodeToolPolicy } from './adapters/node.ts';
export type { NodeAuthOptions } from './adapters/node-anonymous.ts';
export type { NodeStreamResponseLike } from './adapters/node-policy.ts';
export type { NodeRequestLike, NodeResponseLike } from './adapters/node-io.ts';

export type { Clock } from './util/clock.ts';
