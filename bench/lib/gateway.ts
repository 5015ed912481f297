/**
 * The gateway phase: what relaying a tools/call costs Portcullis in gateway mode, against the least a
 * Node reverse proxy can do in front of the same upstream, in the same run (the relay ratio), and
 * how soon an SSE event crosses each.
 */
import { Agent, request as httpRequest } from 'node:http';
import { rememberedFlow } from './flows.ts';
import { HttpClient } from './http-client.ts';
import { measureLoad, type LoadResult, type LoadSpec } from './load.ts';
import { MCP_PATH, mcpHeaders, openSession } from './mcp.ts';
import type { Bench } from './phases.ts';
import { summarize, type LatencySummary } from './results.ts';
import type { ServerProcess } from './server-process.ts';

export type RelayVariant = 'gateway' | 'bareProxy' | 'direct';

export interface GatewayReport {
  /** Server CPU per call: of the gateway, of the bare proxy, and of the upstream itself when called directly. */
  toolsCall: Record<RelayVariant, LoadResult[]>;
  /** Request sent → first SSE event (a progress notification the upstream sends at once) received. */
  sseFirstEvent: Record<RelayVariant, LatencySummary>;
}

const echoCallBody = (id: string | number): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'relay me' } } });
const progressCallBody = (id: number): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'progress', arguments: { delayMs: 2 }, _meta: { progressToken: id } } });

/** One call of `progress` over `agent`: milliseconds from sending the request to its first SSE event. */
function sseFirstEvent(agent: Agent, origin: string, headers: Record<string, string>, id: number): Promise<number> {
  const url = new URL(origin);
  const body = progressCallBody(id);
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    let firstEvent: number | undefined;
    let seen = '';
    const req = httpRequest({ agent, host: url.hostname, port: url.port, method: 'POST', path: MCP_PATH, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`progress call: HTTP ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        if (firstEvent !== undefined) return;
        seen += chunk.toString('utf8');
        if (seen.includes('notifications/progress')) firstEvent = performance.now() - started;
      });
      res.on('end', () => (firstEvent === undefined ? reject(new Error(`no progress event: ${seen.slice(0, 300)}`)) : resolve(firstEvent)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts the upstream (on the load generator's core, so the relay under test has its core to
 * itself), Portcullis in gateway mode and the bare proxy in front of it, opens one 2025-era session
 * through each and one directly, then measures `echo` calls through each (warm-up first, then ABBA
 * order) and the SSE first-event latency.
 */
export async function measureGateway(b: Bench, cookies: readonly string[]): Promise<GatewayReport> {
  const { fixture, target, profile } = b;
  const upstream = await b.start('upstream', { kind: 'mcp-upstream' }, { core: 'load' });
  const upstreamUrl = `${upstream.origin()}${MCP_PATH}`;
  const gateway = await b.start('gateway', { kind: 'gateway', database: fixture.database, publicUrl: target.issuer, upstreamUrl });
  const proxy = await b.start('bare-proxy', { kind: 'bare-proxy', upstreamUrl });

  // A real access token from an everyday flow on the main server; the gateway verifies it on every call.
  const http = new HttpClient(target.origin);
  const { accessToken } = await rememberedFlow(http, target, fixture.users[0]!, fixture.clientId, cookies[0]!);
  http.close();

  const variants: { name: RelayVariant; server: ServerProcess; token: string | undefined }[] = [
    { name: 'gateway', server: gateway, token: accessToken },
    { name: 'bareProxy', server: proxy, token: undefined },
    { name: 'direct', server: upstream, token: undefined },
  ];
  const headers = new Map<RelayVariant, Record<string, string>>();
  const specs = new Map<RelayVariant, LoadSpec>();
  for (const v of variants) {
    const client = new HttpClient(v.server.origin());
    const sessionId = await openSession(client, v.token);
    client.close();
    headers.set(v.name, mcpHeaders(v.token, sessionId));
    specs.set(v.name, { origin: v.server.origin(), path: MCP_PATH, method: 'POST', headers: mcpHeaders(v.token, sessionId), body: echoCallBody('[<id>]') });
  }

  const toolsCall: GatewayReport['toolsCall'] = { gateway: [], bareProxy: [], direct: [] };
  b.log('gateway relay, warming up…');
  for (const v of variants) await measureLoad(v.server, specs.get(v.name)!, { ...b.loadOptions('warm-up'), seconds: profile.warmupSeconds + 1, profileFile: undefined });
  for (let r = 0; r < profile.repeats; r++) {
    b.log(`gateway relay, run ${r + 1} of ${profile.repeats}…`);
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      toolsCall[v.name].push(await measureLoad(v.server, specs.get(v.name)!, b.loadOptions(`${v.server.label}-relay-tools-call`)));
    }
  }

  // One call through each in turn, so that the machine's drift touches all three alike; the first
  // ten rounds warm up.
  b.log(`SSE first event, ${profile.sseSamples} calls each…`);
  const latencies: Record<RelayVariant, number[]> = { gateway: [], bareProxy: [], direct: [] };
  const agents = new Map(variants.map((v) => [v.name, new Agent({ keepAlive: true, maxSockets: 1 })]));
  try {
    for (let i = 0; i < profile.sseSamples + 10; i++) {
      for (const v of variants) {
        const ms = await sseFirstEvent(agents.get(v.name)!, v.server.origin(), headers.get(v.name)!, i + 1);
        if (i >= 10) latencies[v.name].push(ms);
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
  return { toolsCall, sseFirstEvent: { gateway: summarize(latencies.gateway), bareProxy: summarize(latencies.bareProxy), direct: summarize(latencies.direct) } };
}
