/**
 * The DPoP phase (RFC 9449): tools/call with a DPoP-bound token and a fresh proof on every request,
 * against the same call with a bearer token, on the same server, side by side (warm-up, then ABBA).
 * The difference in server CPU per request is what DPoP verification adds: the proof's signature,
 * its claims, `ath`, and spending its `jti` in the replay store.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { rememberedFlow } from './flows.ts';
import { header, HttpClient } from './http-client.ts';
import { measureLoad, type LoadResult, type LoadSpec } from './load.ts';
import { initializeBody, initializedBody, MCP_PATH, mcpHeaders, openSession, whoamiCallBody } from './mcp.ts';
import type { Bench } from './phases.ts';
import { SCOPES } from './fixture.ts';

export interface DpopRuns {
  bearer: LoadResult[];
  dpop: LoadResult[];
}

/** A client's ES256 DPoP key, signing proofs synchronously (the load generator makes one per request). */
interface ProofSigner {
  jkt: string;
  proof(htm: string, htu: string, accessToken: string): string;
}

async function createProofSigner(): Promise<ProofSigner> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const head = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })).toString('base64url');
  return {
    jkt: await calculateJwkThumbprint(jwk),
    proof(htm, htu, accessToken) {
      const ath = createHash('sha256').update(accessToken).digest('base64url');
      const body = Buffer.from(JSON.stringify({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomBytes(16).toString('base64url'), ath })).toString('base64url');
      return `${head}.${body}.${signEs256(privateKey, `${head}.${body}`)}`;
    },
  };
}

const signEs256 = (key: KeyObject, input: string): string => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');

/** `Authorization: DPoP` and a new proof: what a DPoP client sends with every request. */
function dpopHeaders(signer: ProofSigner, token: string, resource: string, sessionId?: string): Record<string, string> {
  const { Authorization: _bearer, ...rest } = mcpHeaders(token, sessionId);
  return { ...rest, Authorization: `DPoP ${token}`, DPoP: signer.proof('POST', resource, token) };
}

/** `initialize` + `notifications/initialized` with DPoP; the session's id. */
async function openDpopSession(http: HttpClient, signer: ProofSigner, token: string, resource: string): Promise<string> {
  const init = await http.send('POST', MCP_PATH, dpopHeaders(signer, token, resource), initializeBody());
  const sessionId = header(init, 'mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`DPoP initialize: HTTP ${init.status} ${init.body.slice(0, 300)}`);
  const initialized = await http.send('POST', MCP_PATH, dpopHeaders(signer, token, resource, sessionId), initializedBody());
  if (initialized.status !== 202) throw new Error(`DPoP notifications/initialized: HTTP ${initialized.status}`);
  return sessionId;
}

export async function measureDpop(b: Bench, cookies: readonly string[]): Promise<DpopRuns> {
  const { portcullis, fixture, target, profile } = b;
  const user = fixture.users[0]!;
  const http = new HttpClient(target.origin);
  try {
    const { accessToken: bearer } = await rememberedFlow(http, target, user, fixture.clientId, cookies[0]!);
    const signer = await createProofSigner();
    // Same user, client and scopes as the bearer token, bound to the signer's key (cnf.jkt).
    const bound = (await portcullis.command('issue-dpop-token', { subject: user.id, clientId: fixture.clientId, scopes: SCOPES, jkt: signer.jkt })) as string;
    const bearerSession = await openSession(http, bearer);
    const dpopSession = await openDpopSession(http, signer, bound, target.resource);
    const origin = portcullis.origin();
    const specs: Record<keyof DpopRuns, LoadSpec> = {
      bearer: { origin, path: MCP_PATH, method: 'POST', headers: mcpHeaders(bearer, bearerSession), body: whoamiCallBody('[<id>]') },
      dpop: {
        origin,
        path: MCP_PATH,
        method: 'POST',
        headers: mcpHeaders(undefined, dpopSession),
        body: whoamiCallBody('[<id>]'),
        nextHeaders: () => dpopHeaders(signer, bound, target.resource, dpopSession),
      },
    };
    const runs: DpopRuns = { bearer: [], dpop: [] };
    const order: (keyof DpopRuns)[] = ['bearer', 'dpop'];
    b.log('DPoP tools/call, warming up…');
    for (const v of order) await measureLoad(portcullis, specs[v], { ...b.loadOptions('warm-up'), seconds: profile.warmupSeconds + 1, profileFile: undefined });
    for (let r = 0; r < profile.repeats; r++) {
      b.log(`DPoP tools/call, run ${r + 1} of ${profile.repeats}…`);
      for (const v of r % 2 === 0 ? order : [...order].reverse()) runs[v].push(await measureLoad(portcullis, specs[v], b.loadOptions(`portcullis-${v}-tools-call`)));
    }
    return runs;
  } finally {
    http.close();
  }
}
