/**
 * BENCH ONLY, never part of the product: Portcullis's MCP endpoint with the resource guard taken out,
 * to measure what authentication costs per request (the "auth ratio"). It is the product endpoint's
 * request path (`src/mcp/endpoint.ts`) step for step — Origin check, CORS, body read, the same SDK
 * handler, the same session table, the same tools on the same SQLite file behind the same Node
 * adapter — except that there is no bearer verification and no scope check: every request acts for
 * one fixed user, whose AuthInfo is built once. It runs in the product's own process, over its
 * context (see `portcullis.ts`), on a listener of its own.
 */
import { createMcpHandler, isJsonContentType, isLegacyRequest } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import type { AppContext } from '../../src/context.ts';
import { corsFor } from '../../src/http/cors.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { authInfoFor } from '../../src/mcp/auth-info.ts';
import { jsonRpcError, readJsonBody } from '../../src/mcp/json-rpc.ts';
import { createOriginPolicy } from '../../src/mcp/origin.ts';
import { createMcpServerFactory } from '../../src/mcp/server-factory.ts';
import { LegacySessions } from '../../src/mcp/sessions.ts';
import { builtInTools } from '../../src/mcp/tools/built-in.ts';
import { createToolRegistry } from '../../src/mcp/tools/registry.ts';
import type { Principal } from '../../src/resource/guard.ts';
import { protectedResourceMetadataUrl } from '../../src/resource/metadata.ts';
import type { FixedPrincipal } from './types.ts';

/** The app: the MCP endpoint's request path without the resource guard, acting for `principal`. */
export function createNoAuthMcpApp(ctx: AppContext, principal: FixedPrincipal): { app: Hono; close(): Promise<void> } {
  const { config } = ctx;
  const isAllowedOrigin = createOriginPolicy(config);
  const registry = createToolRegistry(builtInTools.filter((t) => t.requiredScopes.every((s) => config.scopeNames.has(s))), config.scopeNames);
  const factory = createMcpServerFactory(ctx, registry);
  const modern = createMcpHandler(factory, { legacy: 'reject' });
  const sessions = new LegacySessions({ factory, clock: ctx.clock, random: ctx.random, logger: silentLogger, idleTtlMs: config.mcpSessionIdleTtl * 1000, jsonResponses: true });
  const fixed: Principal = {
    subject: principal.subject,
    clientId: principal.clientId,
    scopes: principal.scopes,
    claims: { sub: principal.subject, client_id: principal.clientId, scope: principal.scopes.join(' ') },
    token: 'no-auth',
    expiresAt: Math.floor(Date.now() / 1000) + 86_400,
  };
  const authInfo = authInfoFor(fixed, config.resource, protectedResourceMetadataUrl(config));

  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
  });
  app.use(config.mcpPath, async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin)) return jsonRpcError(403, -32000, 'Forbidden: this Origin may not call the MCP endpoint');
    return next();
  });
  app.use(config.mcpPath, corsFor(isAllowedOrigin));
  app.all(config.mcpPath, async (c) => {
    const request = c.req.raw;
    if (request.method !== 'POST' && request.method !== 'GET' && request.method !== 'DELETE') return jsonRpcError(405, -32000, 'Method not allowed', { Allow: 'GET, POST, DELETE' });
    let parsedBody: unknown;
    if (request.method === 'POST') {
      if (!isJsonContentType(request.headers.get('Content-Type'))) return jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      const body = await readJsonBody(request);
      if (!body.ok) return body.response;
      if (typeof body.value !== 'object' || body.value === null) return jsonRpcError(400, -32600, 'Invalid Request: expected a JSON-RPC message');
      parsedBody = body.value;
    }
    if (await isLegacyRequest(request, parsedBody)) return sessions.handle(request, fixed, authInfo, parsedBody);
    return modern.fetch(request, { authInfo, parsedBody });
  });

  return {
    app,
    async close() {
      await sessions.close();
      await modern.close();
    },
  };
}
