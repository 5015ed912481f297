/**
 * Who may call this app's MCP endpoint: the access tokens Portcullis accepts, from Stytch or any OAuth
 * server, and the Protected Resource Metadata that tells MCP clients where to get one. Shared by
 * `app/mcp/route.ts` and the metadata route.
 */
import { createJwksVerifier, createResourceServer, createStytchVerifier } from 'portcullis';

const { STYTCH_PROJECT_ID, STYTCH_DOMAIN, STYTCH_SECRET, AUTHORIZATION_SERVER } = process.env;
// The resource: tokens must be meant for exactly this URL (set PUBLIC_URL to your deployment's origin).
export const mcpUrl = `${process.env.PUBLIC_URL ?? 'http://localhost:3000'}/mcp`;

// Tokens from your Stytch project (as in Stytch's MCP guide), or from any OAuth server that publishes a JWKS.
const issuer = STYTCH_PROJECT_ID ? STYTCH_DOMAIN : AUTHORIZATION_SERVER;
if (!issuer) throw new Error('Set STYTCH_PROJECT_ID and STYTCH_DOMAIN (Stytch), or AUTHORIZATION_SERVER (the issuer URL of any OAuth server)');

export const resourceServer = createResourceServer({
  resource: mcpUrl,
  authorizationServers: [issuer],
  scopesSupported: ['openid', 'tasks:write'],
  verifier: STYTCH_PROJECT_ID
    ? createStytchVerifier({ projectId: STYTCH_PROJECT_ID, projectDomain: issuer, secret: STYTCH_SECRET })
    : createJwksVerifier({ issuer, audience: mcpUrl }),
});
