import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToolPolicy } from '../../src/policy/decide.ts';
import { createMcpPolicyGuard, POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { filterListResponse } from '../../src/policy/list-filter.ts';
import { LISTS } from '../../src/policy/mcp-messages.ts';
import { decodeRoutingHeaderValue, encodeRoutingHeaderValue, routingHeaderMismatch } from '../../src/policy/routing-headers.ts';
import { parseChallenge } from '../resource/fixtures.ts';

const PRM = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const policy = createToolPolicy({ rules: [{ tools: ['write_*'], scopes: ['write'] }, { tools: ['admin_*'], groups: ['admins'] }] });
const guard = createMcpPolicyGuard({ policy, resourceMetadataUrl: PRM });
const alice = { subject: 'alice', scopes: ['read'], groups: [] };

describe('routing headers (2026-07-28 Mcp-Method / Mcp-Name) are checked against the body', () => {
  it('absent headers (a 2025-era client) and agreeing ones pass; the Base64 sentinel form is decoded first', () => {
    assert.equal(routingHeaderMismatch(new Headers(), call('x')), null);
    assert.equal(routingHeaderMismatch(new Headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'x' }), call('x')), null);
    const name = 'café ☕';
    assert.equal(decodeRoutingHeaderValue(encodeRoutingHeaderValue(name)), name);
    assert.equal(routingHeaderMismatch(new Headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': encodeRoutingHeaderValue(name) }), call(name)), null);
  });

  it('a header that names another method or tool, or a name the body does not have, is a mismatch', () => {
    assert.match(routingHeaderMismatch(new Headers({ 'Mcp-Method': 'tools/list' }), call('x')) ?? '', /Mcp-Method/);
    assert.match(routingHeaderMismatch(new Headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'harmless' }), call('write_all')) ?? '', /Mcp-Name/);
    assert.match(routingHeaderMismatch(new Headers({ 'Mcp-Name': 'x' }), { jsonrpc: '2.0', id: 1, method: 'tools/list' }) ?? '', /Mcp-Name/);
    assert.match(routingHeaderMismatch(new Headers({ 'Mcp-Method': 'tools/call' }), [call('x')]) ?? '', /Mcp-Method/, 'a batch has no one method');
    assert.match(routingHeaderMismatch(new Headers({ 'Mcp-Name': '=?base64?!!!?=' }), call('x')) ?? '', /Mcp-Name/, 'bad Base64');
  });

  it('the guard refuses a mismatch with 400 and -32020 before applying the policy', async () => {
    const result = await guard.check({ headers: new Headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'read_all' }) }, alice, call('admin_reset', 7));
    assert.equal(result.ok, false);
    const response = (result as { response: Response }).response;
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.code, -32020);
    assert.equal(body.id, 7);
  });
});

describe('the MCP policy guard', () => {
  it('RS-12 a call that more scope would allow: 403 insufficient_scope naming the scopes', async () => {
    const result = await guard.check({ headers: new Headers() }, alice, call('write_note'));
    assert.equal(result.ok, false);
    const response = (result as { response: Response }).response;
    assert.equal(response.status, 403);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.equal(params['scope'], 'write');
    assert.equal(params['resource_metadata'], PRM);
  });

  it('a call no scope would allow: a JSON-RPC error with the request id, not a 403 challenge, and no policy details', async () => {
    const result = await guard.check({ headers: new Headers() }, { ...alice, scopes: ['read', 'write'] }, call('admin_reset', 'req-9'));
    const response = (result as { response: Response }).response;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('WWW-Authenticate'), null);
    const body = await response.json();
    assert.deepEqual(body, { jsonrpc: '2.0', id: 'req-9', error: { code: POLICY_DENIED_CODE, message: 'Forbidden: you may not use the tool "admin_reset".' } });
  });

  it('a tools/call without a string name is a clear invalid-params error, not passed on undecided', async () => {
    const result = await guard.check({ headers: new Headers() }, alice, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 42 } });
    const response = (result as { response: Response }).response;
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, -32602);
  });

  it('a request that names nothing is left to the server (it acts on nothing; a revision that removed the method answers 404)', async () => {
    const strict = createMcpPolicyGuard({ policy: createToolPolicy({ rules: [{ resources: ['*'], groups: ['admins'] }] }), resourceMetadataUrl: PRM });
    const result = await strict.check({ headers: new Headers() }, alice, { jsonrpc: '2.0', id: 4, method: 'resources/subscribe', params: {} });
    assert.equal(result.ok, true);
    const named = await strict.check({ headers: new Headers() }, alice, { jsonrpc: '2.0', id: 5, method: 'resources/subscribe', params: { uri: 'file:///x' } });
    assert.equal(named.ok, false, 'the same request naming a resource is decided');
  });

  it('completion/complete about a prompt, and resources/subscribe, are decided like using that prompt or resource', async () => {
    const prompts = createMcpPolicyGuard({ policy: createToolPolicy({ rules: [{ prompts: ['secret_*'], groups: ['admins'] }, { resources: ['file:///private/*'], groups: ['admins'] }] }), resourceMetadataUrl: PRM });
    const complete = { jsonrpc: '2.0', id: 4, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'secret_plan' }, argument: { name: 'a', value: '' } } };
    const denied = await prompts.check({ headers: new Headers() }, alice, complete);
    assert.equal(denied.ok, false);
    assert.equal((await (denied as { response: Response }).response.json()).error.code, POLICY_DENIED_CODE);
    const subscribe = { jsonrpc: '2.0', id: 5, method: 'resources/subscribe', params: { uri: 'file:///private/x' } };
    assert.equal((await prompts.check({ headers: new Headers() }, alice, subscribe)).ok, false);
    assert.equal((await prompts.check({ headers: new Headers() }, { ...alice, groups: ['admins'] }, complete)).ok, true);
    const otherRef = { ...complete, params: { ref: { type: 'ref/other' } } };
    assert.equal((await prompts.check({ headers: new Headers() }, alice, otherRef)).ok, true, 'a reference this policy does not know names nothing to decide');
  });

  it('an allowed call passes with an identity filter', async () => {
    const result = await guard.check({ headers: new Headers() }, alice, call('read_all'));
    assert.equal(result.ok, true);
  });

  const listAnswer = { jsonrpc: '2.0', id: 2, result: { tools: [{ name: 'read_all' }, { name: 'write_note' }, { name: 'admin_reset' }, { title: 'no name' }] } };
  const listRequest = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

  it('SEP-1881 tools/list as JSON: only what the caller may call is shown; other responses untouched', async () => {
    const result = await guard.check({ headers: new Headers() }, alice, listRequest);
    assert.ok(result.ok);
    const filtered = await result.filter(Response.json(listAnswer));
    assert.deepEqual((await filtered.json()).result.tools, [{ name: 'read_all' }]);
    const other = await result.filter(Response.json({ ...listAnswer, id: 3 }));
    assert.equal((await other.json()).result.tools.length, 4, 'a response to another id is not this request\'s list');
  });

  it('SEP-1881 tools/list as SSE, split across chunks with CRLF line ends: the data is rewritten, event ids kept', async () => {
    const text = `event: message\r\nid: ev-1\r\ndata: ${JSON.stringify(listAnswer)}\r\n\r\n: keep-alive\r\n\r\n`;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < text.length; i += 7) controller.enqueue(encoder.encode(text.slice(i, i + 7)));
        controller.close();
      },
    });
    const result = await guard.check({ headers: new Headers() }, { ...alice, scopes: ['write'] }, listRequest);
    assert.ok(result.ok);
    const filtered = await result.filter(new Response(stream, { headers: { 'Content-Type': 'text/event-stream' } }));
    const out = await filtered.text();
    const [event] = out.split('\n\n');
    assert.match(event!, /^event: message\nid: ev-1\ndata: /);
    const data = JSON.parse(event!.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
    assert.deepEqual(data.result.tools.map((t: { name: string }) => t.name), ['read_all', 'write_note']);
    assert.match(out, /: keep-alive/);
  });

  it('SEP-1881 resources/templates/list: a template is shown only when its URI template may be read', async () => {
    const resourceGuard = createMcpPolicyGuard({ policy: createToolPolicy({ rules: [{ resources: ['file:///private/*'], groups: ['admins'] }] }), resourceMetadataUrl: PRM });
    const result = await resourceGuard.check({ headers: new Headers() }, alice, { jsonrpc: '2.0', id: 4, method: 'resources/templates/list' });
    assert.ok(result.ok);
    const answer = { jsonrpc: '2.0', id: 4, result: { resourceTemplates: [{ uriTemplate: 'file:///private/{path}', name: 'private' }, { uriTemplate: 'file:///public/{path}', name: 'public' }] } };
    const filtered = await result.filter(Response.json(answer));
    assert.deepEqual((await filtered.json()).result.resourceTemplates.map((t: { name: string }) => t.name), ['public']);
  });

  it('filtering can be turned off: tools/list then passes unchanged', async () => {
    const open = createMcpPolicyGuard({ policy, resourceMetadataUrl: PRM, filterLists: false });
    const result = await open.check({ headers: new Headers() }, alice, listRequest);
    assert.ok(result.ok);
    assert.equal((await (await result.filter(Response.json(listAnswer))).json()).result.tools.length, 4);
  });

  it('filterListResponse leaves non-JSON, non-SSE bodies alone', async () => {
    const response = new Response('plain', { headers: { 'Content-Type': 'text/plain' } });
    assert.equal(await filterListResponse(response, new Map([[2, LISTS['tools/list']!]]), async () => false), response);
  });
});

describe('requests without a token when some targets are public (issue 14 part 6)', () => {
  const mixed = createToolPolicy({ public: { tools: ['search'], resources: ['file:///docs/*'], prompts: ['hello'] }, rules: [{ tools: ['write_*'], scopes: ['write'] }] });
  const anonymous = createMcpPolicyGuard({ policy: mixed, resourceMetadataUrl: PRM });
  const message = (method: string, params?: unknown) => ({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) });

  it('getting started, the lists, and using a public tool, resource or prompt pass; with no public target nothing does', async () => {
    for (const body of [
      message('initialize', { protocolVersion: '2025-06-18' }),
      message('tools/list'),
      call('search'),
      message('resources/read', { uri: 'file:///docs/a.md' }),
      message('prompts/get', { name: 'hello' }),
      message('completion/complete', { ref: { type: 'ref/prompt', name: 'hello' }, argument: { name: 'a', value: '' } }),
      [message('ping'), { jsonrpc: '2.0', method: 'notifications/initialized' }],
    ]) {
      const checked = await anonymous.checkAnonymous({ headers: new Headers() }, body);
      assert.ok(checked !== 'sign-in' && checked.ok, JSON.stringify(body));
    }
    assert.equal(await guard.checkAnonymous({ headers: new Headers() }, message('tools/list')), 'sign-in');
  });

  it('anything else is sign-in: a protected target, a batch hiding one, other methods, answers to the server, an empty batch', async () => {
    for (const body of [
      call('write_note'),
      message('resources/read', { uri: 'file:///private/a' }),
      message('resources/read', { uri: 'file:///docs/../private/a' }),
      message('resources/read', { uri: 'file:///docs/%2E%2e/private/a' }),
      message('prompts/get', { name: 'other' }),
      message('resources/subscribe', { uri: 'file:///private/a' }),
      [call('search'), call('write_note', 2)],
      message('resources/templates/list'),
      message('tasks/get', { taskId: 't' }),
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: { toString: 'search' } } },
      [],
    ]) {
      assert.equal(await anonymous.checkAnonymous({ headers: new Headers() }, body), 'sign-in', JSON.stringify(body));
    }
  });

  it('a batch with two requests of one id is refused first (400 -32600), signed in or not: a list answer could be taken for the other list\'s', async () => {
    const lists = [message('tools/list'), message('prompts/list')];
    for (const checked of [await anonymous.checkAnonymous({ headers: new Headers() }, lists), await anonymous.check({ headers: new Headers() }, alice, lists)]) {
      assert.ok(checked !== 'sign-in' && !checked.ok);
      assert.equal(checked.response.status, 400);
      assert.equal((await checked.response.json()).error.code, -32600);
    }
    const distinct = await anonymous.check({ headers: new Headers() }, alice, [message('tools/list'), { ...message('prompts/list'), id: 2 }]);
    assert.ok(distinct.ok, 'distinct ids pass');
    const answersAndNotifications = await anonymous.check({ headers: new Headers() }, alice, [{ jsonrpc: '2.0', id: 1, result: {} }, message('tools/list'), { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', method: 'notifications/cancelled', params: {} }]);
    assert.ok(answersAndNotifications.ok, 'an answer to the server may share an id with a request; notifications have none');
  });

  it('a resource URI with a dot segment is refused a signed-in caller too: the JSON-RPC error of a call no scope would allow', async () => {
    const checked = await anonymous.check({ headers: new Headers() }, { ...alice, scopes: ['read', 'write'] }, message('resources/read', { uri: 'file:///docs/../secrets' }));
    assert.ok(!checked.ok);
    assert.equal(checked.response.status, 200);
    assert.equal((await checked.response.json()).error.code, POLICY_DENIED_CODE);
  });

  it('the routing headers are checked for a caller without a token too', async () => {
    const checked = await anonymous.checkAnonymous({ headers: new Headers({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'write_note' }) }, call('search'));
    assert.ok(checked !== 'sign-in' && !checked.ok);
    assert.equal(checked.response.status, 400);
  });
});
