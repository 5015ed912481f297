import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { honoAuth, honoMetadata } from '../../src/adapters/hono.ts';
import { adapterSetup, assertAdapterBehaviour, assertAdapterDpop, type AdapterCall } from './setup.ts';

describe('Hono adapter', () => {
  it('RS-17 honoAuth lets a verified caller through with c.get("auth"), answers 401/403 otherwise; honoMetadata serves the PRM', async () => {
    const { rs, reader, writer, dpop } = await adapterSetup();
    const app = new Hono();
    app.use(honoMetadata(rs));
    app.post('/mcp', honoAuth(rs), (c) => c.json({ subject: c.get('auth').subject, scopes: c.get('auth').scopes }));
    app.post('/mcp/admin', honoAuth(rs, { requiredScopes: ['tasks:write'] }), (c) => c.json({ subject: c.get('auth').subject }));
    const call: AdapterCall = async (path, headers) => app.request(`http://127.0.0.1${path}`, { method: path.startsWith('/.well-known') ? 'GET' : 'POST', headers });
    await assertAdapterBehaviour(call, { reader, writer });
    // RFC 9449 §7: the adapter gives the resource server what a DPoP proof is checked against.
    await assertAdapterDpop(call, dpop);
  });
});
