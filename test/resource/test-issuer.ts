/**
 * A small third-party authorization server, in-process: RFC 8414 metadata (optionally OIDC discovery
 * only), a JWKS, and RFC 9068 access tokens signed with its keys, any claim or header overridable.
 * Reached through `issuer.fetch`; `requests` records what a verifier fetched.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createJwksVerifier, type JwksVerifierOptions } from '../../src/resource/verifiers/jwks.ts';
import type { TokenVerifier } from '../../src/resource/types.ts';
import { ManualClock } from '../../src/util/clock.ts';

export interface IssuerKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createIssuerKey(alg = 'ES256'): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `key-${randomUUID()}`;
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TestIssuerOptions {
  issuer?: string;
  resource?: string;
  /** Which metadata documents exist. Default: RFC 8414 only. */
  discovery?: 'rfc8414' | 'oidc' | 'none';
  /** The `issuer` the metadata claims (to test RFC 8414 §3.3). Default: the real one. */
  metadataIssuer?: string;
  /** A jwks_uri for the metadata other than `<issuer>/jwks` (e.g. a plain-http one). */
  metadataJwksUri?: string;
  clock?: ManualClock;
}

export async function createTestIssuer(options: TestIssuerOptions = {}) {
  const issuer = options.issuer ?? 'https://as.example';
  const resource = options.resource ?? 'https://mcp.example/mcp';
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 2, 1));
  let keys: IssuerKey[] = [await createIssuerKey()];
  const requests: string[] = [];
  /** Set to make the JWKS endpoint fail (status) or redirect. */
  const jwksBehaviour: { status: number; location?: string; padding?: number } = { status: 200 };

  const app = new Hono();
  app.use(async (c, next) => {
    requests.push(new URL(c.req.url).pathname);
    await next();
  });
  const metadata = () => ({ issuer: options.metadataIssuer ?? issuer, jwks_uri: options.metadataJwksUri ?? `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect`, response_types_supported: ['code'] });
  if (options.discovery === undefined || options.discovery === 'rfc8414') app.get('/.well-known/oauth-authorization-server', (c) => c.json(metadata()));
  if (options.discovery === 'oidc') app.get('/.well-known/openid-configuration', (c) => c.json(metadata()));
  app.get('/jwks', (c) => {
    if (jwksBehaviour.location) return c.redirect(jwksBehaviour.location, 302);
    if (jwksBehaviour.status !== 200) return c.json({ error: 'unavailable' }, jwksBehaviour.status as 500);
    return c.json({ keys: keys.map((k) => k.publicJwk), ...(jwksBehaviour.padding ? { padding: 'x'.repeat(jwksBehaviour.padding) } : {}) });
  });

  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(issuer + '/')) throw new TypeError(`fetch to an unexpected host: ${request.url}`);
    return app.fetch(request);
  }) as typeof fetch;

  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const now = Math.floor(clock.now() / 1000);
    const base: Record<string, unknown> = {
      iss: issuer,
      sub: 'user-1',
      aud: resource,
      client_id: 'client-1',
      scope: 'tasks:read',
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete base[name];
      else base[name] = value;
    }
    return base;
  };

  return {
    issuer,
    resource,
    clock,
    app,
    fetch: fetchFn,
    requests,
    jwksBehaviour,
    get currentKey(): IssuerKey {
      return keys.at(-1)!;
    },
    claims,
    /** An RFC 9068 token; `claims` and `header` override the defaults (`undefined` removes one). */
    async sign(options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: IssuerKey } = {}): Promise<string> {
      const key = options.key ?? keys.at(-1)!;
      const header: Record<string, unknown> = { alg: key.alg, typ: 'at+jwt', kid: key.kid };
      for (const [name, value] of Object.entries(options.header ?? {})) {
        if (value === undefined) delete header[name];
        else header[name] = value;
      }
      return new SignJWT(claims(options.claims)).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    async rotate(): Promise<IssuerKey> {
      const key = await createIssuerKey();
      keys = [...keys, key];
      return key;
    },
    retire(kid: string): void {
      keys = keys.filter((k) => k.kid !== kid);
    },
    verifier(overrides: Partial<JwksVerifierOptions> = {}): TokenVerifier {
      return createJwksVerifier({ issuer, audience: resource, fetch: fetchFn, clock, ...overrides });
    },
  };
}

export type TestIssuer = Awaited<ReturnType<typeof createTestIssuer>>;
