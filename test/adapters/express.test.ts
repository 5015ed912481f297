import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, describe, it } from 'node:test';
import express from 'express';
import { expressAuth, expressMetadata, requestAuth } from '../../src/adapters/express.ts';
import { adapterSetup, assertAdapterBehaviour, assertAdapterDpop, type AdapterCall } from './setup.ts';

describe('Express adapter', () => {
  let server: Server | undefined;
  after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('RS-17 expressAuth sets req.auth for a verified caller and answers 401/403 otherwise; expressMetadata serves the PRM', async () => {
    const { rs, reader, writer, dpop } = await adapterSetup();
    const app = express();
    app.use(expressMetadata(rs));
    app.post('/mcp', expressAuth(rs), (req, res) => {
      const auth = requestAuth(req);
      res.json({ subject: auth.subject, scopes: auth.scopes });
    });
    app.post('/mcp/admin', expressAuth(rs, { requiredScopes: ['tasks:write'] }), (req, res) => {
      res.json({ subject: requestAuth(req).subject });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as { port: number };
    const call: AdapterCall = (path, headers) => fetch(`http://127.0.0.1:${port}${path}`, { method: path.startsWith('/.well-known') ? 'GET' : 'POST', headers, signal: AbortSignal.timeout(10_000) });
    await assertAdapterBehaviour(call, { reader, writer });
    // RFC 9449 §7: the adapter gives the resource server what a DPoP proof is checked against.
    await assertAdapterDpop(call, dpop);
  });

  it('requestAuth refuses to answer when the middleware did not run', () => {
    assert.throws(() => requestAuth({}), /expressAuth/);
  });
});
