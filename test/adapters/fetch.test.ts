import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metadataHandler, withMcpAuth } from '../../src/adapters/fetch.ts';
import { adapterSetup, assertAdapterBehaviour, assertAdapterDpop, type AdapterCall } from './setup.ts';

describe('fetch-style adapter (Next.js route handlers, Workers)', () => {
  it('RS-17 withMcpAuth runs the handler only for a verified caller, passes extra arguments through, and serves the PRM', async () => {
    const { rs, reader, writer, dpop } = await adapterSetup();
    const mcp = withMcpAuth((_request, auth) => Response.json({ subject: auth.subject, scopes: auth.scopes }), { resourceServer: rs });
    const admin = withMcpAuth((_request, auth) => Response.json({ subject: auth.subject }), { resourceServer: rs, requiredScopes: ['tasks:write'] });
    const call: AdapterCall = async (path, headers) => {
      const request = new Request(`http://127.0.0.1${path}`, { method: path.startsWith('/.well-known') ? 'GET' : 'POST', headers });
      return path === '/mcp/admin' ? admin(request) : mcp(request);
    };
    await assertAdapterBehaviour(call, { reader, writer });
    // RFC 9449 §7: the adapter gives the resource server what a DPoP proof is checked against.
    await assertAdapterDpop(call, dpop);

    // Next.js passes a route context, Workers pass env and ctx: they reach the handler untouched.
    const withContext = withMcpAuth((_request, auth, context: { params: Promise<{ id: string }> }) => context.params.then((p) => Response.json({ id: p.id, subject: auth.subject })), { resourceServer: rs });
    const response = await withContext(new Request('http://127.0.0.1/mcp', { method: 'POST', headers: { Authorization: `Bearer ${reader}` } }), { params: Promise.resolve({ id: '42' }) });
    assert.deepEqual(await response.json(), { id: '42', subject: 'user-1' });
  });

  it('metadataHandler serves the PRM wherever the route file is mounted', async () => {
    const { rs } = await adapterSetup();
    const GET = metadataHandler(rs);
    const response = GET(new Request('http://127.0.0.1/api/prm'));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), rs.metadata);
    assert.equal(GET(new Request('http://127.0.0.1/api/prm', { method: 'POST' })).status, 405);
  });
});
