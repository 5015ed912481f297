import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationServerMetadataUrl, eventStreamCheck, isSecureOrLoopback, protectedResourceMetadataUrl, resourceMetadataFrom } from '../../src/doctor/checks.ts';

describe('doctor checks', () => {
  it('AS-22 https everywhere but loopback', () => {
    assert.equal(isSecureOrLoopback(new URL('https://mcp.example.com/mcp')), true);
    assert.equal(isSecureOrLoopback(new URL('http://127.0.0.1:3000/mcp')), true);
    assert.equal(isSecureOrLoopback(new URL('http://[::1]:3000/mcp')), true);
    assert.equal(isSecureOrLoopback(new URL('http://mcp.example.com/mcp')), false);
    assert.equal(isSecureOrLoopback(new URL('http://10.0.0.5/mcp')), false);
  });

  it('RFC 9728 §3.1 and RFC 8414 §3.1 well-known URLs insert the path after the host', () => {
    assert.equal(protectedResourceMetadataUrl(new URL('https://a.example/mcp')), 'https://a.example/.well-known/oauth-protected-resource/mcp');
    assert.equal(authorizationServerMetadataUrl(new URL('https://a.example')), 'https://a.example/.well-known/oauth-authorization-server');
    assert.equal(authorizationServerMetadataUrl(new URL('https://a.example/tenant1')), 'https://a.example/.well-known/oauth-authorization-server/tenant1');
  });

  it('RFC 9728 §5.1 resource_metadata read from a challenge with other parameters', () => {
    assert.equal(resourceMetadataFrom('Bearer scope="a b", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"'), 'https://a.example/.well-known/oauth-protected-resource/mcp');
    assert.equal(resourceMetadataFrom('Bearer realm="x"'), null);
  });

  it('an event stream a proxy buffered (Content-Length, Cache-Control rewritten) fails; an unbuffered one passes', () => {
    const buffered = new Response('data: {}\n\n', { headers: { 'content-type': 'text/event-stream', 'content-length': '10', 'cache-control': 'public, max-age=60' } });
    const result = eventStreamCheck(buffered);
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /Content-Length/);
    assert.match(result.detail, /Cache-Control: no-cache is missing/);
    assert.equal(eventStreamCheck(new Response('', { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })).status, 'pass');
    assert.equal(eventStreamCheck(new Response('{}', { headers: { 'content-type': 'application/json' } })).status, 'skip');
  });
});
