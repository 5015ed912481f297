import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { resolveClientAddress } from '../../src/http/client-address.ts';
import { clientAddress } from '../../src/http/rate-limit.ts';
import { createTestApp } from '../helpers/app.ts';

/** An app that answers with the rate-limit key it computed, called as the Node adapter would (socket in env). */
function keyer(trustedProxies: string[]) {
  const app = new Hono();
  app.use('*', resolveClientAddress(trustedProxies));
  app.get('/', (c) => c.text(clientAddress(c)));
  return async (socket: string, forwardedFor?: string) => {
    const headers: Record<string, string> = forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {};
    const response = await app.fetch(new Request('http://localhost/', { headers }), { incoming: { socket: { remoteAddress: socket } } });
    return response.text();
  };
}

describe('SEC-48 the address that rate limits and login back-off count by', () => {
  it('without trusted proxies, X-Forwarded-For is never read: the socket address counts', async () => {
    const key = keyer([]);
    assert.equal(await key('198.51.100.7', '203.0.113.9'), '198.51.100.7');
  });

  it('from a trusted proxy, the nearest untrusted X-Forwarded-For hop counts; what the client wrote to its left does not', async () => {
    const key = keyer(['10.0.0.0/8', '127.0.0.1']);
    assert.equal(await key('127.0.0.1', '203.0.113.9'), '203.0.113.9');
    assert.equal(await key('::ffff:10.1.2.3', 'spoofed-by-client, 1.2.3.4, 203.0.113.9, 10.0.0.5'), '203.0.113.9', 'the chain of proxies is walked from the right');
    assert.equal(await key('10.1.2.3', 'not-an-address'), '10.1.2.3', 'garbage keeps the proxy address');
    assert.equal(await key('10.1.2.3'), '10.1.2.3', 'no header: the proxy address');
  });

  it('a socket that is not a trusted proxy cannot choose its key by sending X-Forwarded-For', async () => {
    const key = keyer(['10.0.0.0/8']);
    assert.equal(await key('198.51.100.7', '203.0.113.9'), '198.51.100.7');
  });

  it('the setting refuses anything but addresses and CIDR ranges, naming itself', async () => {
    await assert.rejects(createTestApp({ trustedProxies: ['proxy.internal'] }), /trustedProxies/);
    await createTestApp({ trustedProxies: ['10.0.0.0/8', '::1', '192.168.1.10'] });
  });
});
