import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_IDENTITY_HEADERS } from '../../src/config/upstream.ts';
import { clientResponseHeaders, headerSafe, upstreamRequestHeaders } from '../../src/gateway/http/headers.ts';

const principal = { subject: 'usr_123', clientId: 'cl_abc', scopes: ['mcp', 'files:read'] };
const settings = { bearerToken: 'upstream-secret', secretHeaders: {}, identityHeaders: DEFAULT_IDENTITY_HEADERS };

describe('headers on the way to the upstream (RS-19)', () => {
  it("RS-19 the client's Authorization is replaced by the gateway's credential; identity comes from the token", () => {
    const client = new Headers({
      Authorization: 'Bearer client-access-token',
      'X-Portcullis-Subject': 'usr_admin',
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    });
    const out = upstreamRequestHeaders({ client, principal, settings });
    assert.equal(out.get('authorization'), 'Bearer upstream-secret');
    assert.equal(out.get('x-portcullis-subject'), 'usr_123');
    assert.equal(out.get('x-portcullis-client'), 'cl_abc');
    assert.equal(out.get('x-portcullis-scopes'), 'mcp files:read');
    assert.equal(out.get('content-type'), 'application/json');
    assert.ok(![...out.values()].some((v) => v.includes('client-access-token')));
  });

  it('without a configured credential no Authorization goes upstream at all; secret headers are sent as configured', () => {
    const out = upstreamRequestHeaders({
      client: new Headers({ Authorization: 'Bearer client-access-token' }),
      principal,
      settings: { secretHeaders: { 'X-Api-Key': 'k-1' }, identityHeaders: false },
    });
    assert.equal(out.get('authorization'), null);
    assert.equal(out.get('x-api-key'), 'k-1');
    assert.equal(out.get('x-portcullis-subject'), null);
  });

  it("Mcp-* headers pass (2026-07-28's Mcp-Method, Mcp-Name, Mcp-Param-*…); the client's Mcp-Session-Id never does, the mapped one replaces it", () => {
    const client = new Headers({ 'Mcp-Session-Id': 'gateway-handle', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo', 'Mcp-Param-Region': 'eu', 'MCP-Protocol-Version': '2026-07-28', 'Last-Event-ID': '7' });
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { region: 'eu' } } };
    const out = upstreamRequestHeaders({ client, principal, settings, upstreamSessionId: 'upstream-1', body });
    assert.equal(out.get('mcp-session-id'), 'upstream-1');
    assert.equal(out.get('mcp-method'), 'tools/call');
    assert.equal(out.get('mcp-name'), 'echo');
    assert.equal(out.get('mcp-param-region'), 'eu');
    assert.equal(out.get('mcp-protocol-version'), '2026-07-28');
    assert.equal(out.get('last-event-id'), '7');
    assert.equal(upstreamRequestHeaders({ client, principal, settings }).get('mcp-session-id'), null);
  });

  it('SEP-2243 Mcp-Method / Mcp-Name are stated from the body the scopes were checked on, never relayed as sent', () => {
    const client = new Headers({ 'Mcp-Method': 'tools/list', 'Mcp-Name': 'delete_everything' });
    const call = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } });
    const out = upstreamRequestHeaders({ client, principal, settings, body: call('echo') });
    assert.equal(out.get('mcp-method'), 'tools/call');
    assert.equal(out.get('mcp-name'), 'echo');
    // The spec's value encoding for what is not plain visible ASCII: Base64 of the UTF-8.
    assert.equal(upstreamRequestHeaders({ client, principal, settings, body: call('東京') }).get('mcp-name'), '=?base64?5p2x5Lqs?=');
    assert.equal(upstreamRequestHeaders({ client, principal, settings, body: { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///a' } } }).get('mcp-name'), 'file:///a');
    // Nothing in the body to state (no name, a batch, no body): the client's copies are dropped.
    for (const body of [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }, [call('echo')], undefined]) {
      const bare = upstreamRequestHeaders({ client, principal, settings, body });
      assert.equal(bare.get('mcp-name'), null, JSON.stringify(body));
    }
    assert.equal(upstreamRequestHeaders({ client, principal, settings, body: [call('echo')] }).get('mcp-method'), null);
    // A client that sent none gets none invented.
    assert.equal(upstreamRequestHeaders({ client: new Headers(), principal, settings, body: call('echo') }).get('mcp-method'), null);
  });

  it('RS-19 an identity with a lone surrogate still makes a header (U+FFFD), never a URIError', () => {
    assert.equal(headerSafe('usr_\uD800x'), 'usr_%EF%BF%BDx');
    assert.equal(headerSafe('\uDC00'), '%EF%BF%BD');
    assert.equal(headerSafe('😀'), encodeURIComponent('😀'), 'a well-formed pair is left alone');
    const out = upstreamRequestHeaders({ client: new Headers(), principal: { ...principal, clientId: 'cl_\uDBFF' }, settings });
    assert.equal(out.get('x-portcullis-client'), 'cl_%EF%BF%BD');
  });

  it('RFC 9110 §7.6.1 hop-by-hop headers and those named in Connection are dropped, and so is everything unknown', () => {
    const client = new Headers({ Connection: 'close, Mcp-Secret', 'Mcp-Secret': 'x', 'Keep-Alive': 'timeout=5', TE: 'trailers', Upgrade: 'h2c', Cookie: 'a=b', Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' });
    const out = upstreamRequestHeaders({ client, principal, settings });
    for (const name of ['connection', 'mcp-secret', 'keep-alive', 'te', 'upgrade', 'cookie', 'host', 'x-forwarded-host']) assert.equal(out.get(name), null, name);
    assert.equal(out.get('accept-encoding'), 'identity', 'asks for an uncompressed stream');
  });

  it('identity values that are not printable ASCII are percent-encoded so that decodeURIComponent restores them', () => {
    for (const value of ['usr_plain-ASCII.1', 'josé@example.com', 'a%20b', 'line\nbreak', '東京']) {
      const safe = headerSafe(value);
      assert.match(safe, /^[\x20-\x7E]*$/);
      assert.equal(decodeURIComponent(safe), value);
    }
    assert.equal(headerSafe('usr_plain-ASCII.1'), 'usr_plain-ASCII.1');
    assert.equal(headerSafe('mcp files:read'), 'mcp files:read');
  });
});

describe('headers on the way back to the client', () => {
  it("only what a Streamable HTTP client reads is relayed; the upstream's session id is replaced by the gateway's handle", () => {
    const upstream = new Headers({
      'Content-Type': 'text/event-stream',
      'Mcp-Session-Id': 'upstream-1',
      'Set-Cookie': 'upstream=1',
      'WWW-Authenticate': 'Bearer realm="upstream"',
      Server: 'upstream/1.0',
      'Content-Length': '12',
      'Content-Encoding': 'gzip',
    });
    const out = clientResponseHeaders(upstream, 'gateway-handle');
    assert.equal(out.get('mcp-session-id'), 'gateway-handle');
    assert.equal(out.get('content-type'), 'text/event-stream');
    assert.equal(out.get('x-accel-buffering'), 'no', 'a reverse proxy in front must not buffer the stream');
    for (const name of ['set-cookie', 'www-authenticate', 'server', 'content-length', 'content-encoding']) assert.equal(out.get(name), null, name);
    assert.equal(clientResponseHeaders(upstream, undefined).get('mcp-session-id'), null);
  });
});
