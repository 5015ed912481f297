import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { nodeAuth, nodeMetadata } from '../../src/adapters/node.ts';
import { adapterSetup, assertAdapterBehaviour, assertAdapterDpop, type AdapterCall } from './setup.ts';

describe('node:http adapter', () => {
  let server: Server | undefined;
  after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('RS-17 nodeAuth returns the principal or writes the challenge; nodeMetadata serves the PRM', async () => {
    const { rs, reader, writer, dpop } = await adapterSetup();
    const authenticate = nodeAuth(rs);
    const authenticateAdmin = nodeAuth(rs, { requiredScopes: ['tasks:write'] });
    const serveMetadata = nodeMetadata(rs);
    server = createServer((req, res) => {
      void (async () => {
        if (await serveMetadata(req, res)) return;
        const auth = await (req.url === '/mcp/admin' ? authenticateAdmin : authenticate)(req, res);
        if (!auth) return;
        assert.equal((req as typeof req & { auth?: unknown }).auth, auth, 'also on req.auth, for the MCP SDK transports');
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ subject: auth.subject, scopes: auth.scopes }));
      })().catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const call: AdapterCall = (path, headers) => fetch(`http://127.0.0.1:${port}${path}`, { method: path.startsWith('/.well-known') ? 'GET' : 'POST', headers, signal: AbortSignal.timeout(10_000) });
    await assertAdapterBehaviour(call, { reader, writer });
    // RFC 9449 §7: the adapter gives the resource server what a DPoP proof is checked against.
    await assertAdapterDpop(call, dpop);
  });
});
