import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJSONRPCRequest, type WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { LegacySessions, type SessionEndpoint } from '../../src/mcp/sessions.ts';
import type { Principal } from '../../src/resource/guard.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { initializeMessage, LEGACY_VERSION, mcpHeaders } from './wire.ts';

/**
 * A session endpoint that answers `initialize` and can end by itself, as a gateway stdio session
 * does when its child process dies (src/gateway/stdio/bridge.ts closes the transport).
 */
class DyingEndpoint implements SessionEndpoint {
  #transport: WebStandardStreamableHTTPServerTransport | undefined;

  async connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void> {
    this.#transport = transport;
    transport.onmessage = (message) => {
      if (!isJSONRPCRequest(message)) return;
      void transport.send({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: LEGACY_VERSION, capabilities: {}, serverInfo: { name: 'dying', version: '1' } } });
    };
    transport.onclose = () => {};
    await transport.start();
  }

  /** What happens when the process behind the session exits. */
  die(): Promise<void> {
    return this.#transport!.close();
  }

  async close(): Promise<void> {
    await this.#transport?.close();
  }
}

const alice = { subject: 'alice', clientId: 'client-1', scopes: [], expiresAt: Number.MAX_SAFE_INTEGER, claims: {}, token: 'not-a-real-token' } as unknown as Principal;
const sessionIdOf = (response: Response): string => response.headers.get('Mcp-Session-Id') ?? assert.fail(`no session id on a ${response.status}`);

describe('2025-era session table (LegacySessions)', () => {
  it('a session that ends by itself leaves the table at once and frees its slot: no live session is evicted for it', async () => {
    const clock = new ManualClock();
    const endpoints: DyingEndpoint[] = [];
    const sessions = new LegacySessions({
      factory: () => {
        const endpoint = new DyingEndpoint();
        endpoints.push(endpoint);
        return endpoint;
      },
      clock,
      random: systemRandom,
      logger: createMemoryLogger(),
      idleTtlMs: 60_000,
      maxSessionsPerSubject: 2,
    });
    const open = async (): Promise<string> => {
      const response = await sessions.handle(new Request('http://localhost/mcp', { method: 'POST', headers: mcpHeaders(), body: JSON.stringify(initializeMessage()) }), alice, alice, initializeMessage());
      assert.equal(response.status, 200);
      await response.body?.cancel();
      return sessionIdOf(response);
    };
    const ping = async (id: string): Promise<number> => {
      const message = { jsonrpc: '2.0', method: 'notifications/initialized' };
      const response = await sessions.handle(new Request('http://localhost/mcp', { method: 'POST', headers: mcpHeaders({ 'Mcp-Session-Id': id, 'MCP-Protocol-Version': LEGACY_VERSION }), body: JSON.stringify(message) }), alice, alice, message);
      await response.body?.cancel();
      return response.status;
    };
    try {
      const dying = await open();
      clock.advance(1000);
      const live = await open();
      clock.advance(1000);
      assert.equal(await ping(dying), 202, 'the first session was used last: the live one is now the least recently used');

      await endpoints[0]!.die();
      assert.equal(sessions.size, 1, 'the ended session is no longer in the table');
      assert.equal(await ping(dying), 404);

      await open();
      assert.equal(sessions.size, 2);
      assert.equal(await ping(live), 202, 'the live session kept its slot: the ended one no longer counted against the cap');
    } finally {
      await sessions.close();
    }
  });
});
