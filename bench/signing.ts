/**
 * Signs and verifies access-token-shaped JWTs with each supported algorithm for a fixed time and
 * prints operations per second on one core. This is how the default signing algorithm was chosen.
 *   node --experimental-strip-types bench/signing.ts
 */
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';

const PAYLOAD = {
  iss: 'https://mcp.example.com',
  sub: 'usr_0123456789abcdef',
  aud: 'https://mcp.example.com/mcp',
  client_id: 'cl_0123456789abcdef',
  scope: 'tasks:read tasks:write',
  jti: 'abcdefghijklmnop',
  gid: 'grant_0123456789',
};
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

async function rate(fn: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / SECONDS;
}

const rows: Array<{ alg: string; 'sign/s': number; 'verify/s': number }> = [];
for (const alg of ['ES256', 'RS256'] as const) {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const now = Math.floor(Date.now() / 1000);
  const sign = () => new SignJWT({ ...PAYLOAD, iat: now, exp: now + 3600 }).setProtectedHeader({ alg, typ: 'at+jwt', kid: 'k' }).sign(privateKey);
  const token = await sign();
  rows.push({
    alg,
    'sign/s': Math.round(await rate(sign)),
    'verify/s': Math.round(await rate(() => jwtVerify(token, publicKey, { algorithms: [alg] }))),
  });
}
console.table(rows);
