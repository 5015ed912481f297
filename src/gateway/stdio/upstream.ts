import { isLegacyRequest, SUPPORTED_PROTOCOL_VERSIONS, UnsupportedProtocolVersionError } from '@modelcontextprotocol/server';
import type { UpstreamSettings } from '../../config/upstream.ts';
import type { AppContext } from '../../context.ts';
import { authInfoFor } from '../../mcp/auth-info.ts';
import { LegacySessions } from '../../mcp/sessions.ts';
import type { Principal } from '../../resource/guard.ts';
import { protectedResourceMetadataUrl } from '../../resource/metadata.ts';
import { requestIdOf, UPSTREAM_MESSAGES, upstreamError } from '../errors.ts';
import type { Upstream } from '../upstream.ts';
import { StdioBridge } from './bridge.ts';
import { childEnvironment, secretValuesOf } from './child-environment.ts';
import { ChildProcessTransport } from './child-transport.ts';
import { parseCommandLine } from './command.ts';

/**
 * Each user may run this many stdio servers at once (one per MCP session); opening another ends
 * their least recently used session. Lower than the built-in server's 32: each one is a process.
 */
const MAX_PROCESSES_PER_SUBJECT = 8;

export interface StdioUpstreamOptions {
  /** Where the child's environment is taken from (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** After SIGTERM, how long a child has to exit before SIGKILL. */
  killGraceMs?: number;
}

/**
 * A stdio MCP server behind the gateway: one child process per 2025-era MCP session, started by the
 * session's `initialize` and stopped when the session ends — DELETE from the client, idle for
 * `mcpSessionIdleTtl`, evicted, or shutdown. Sessions are the core's (`LegacySessions`): ids from
 * the CSPRNG, bound to user and client (RS-22/RS-23), so a child only ever serves the user who
 * started it.
 *
 * 2026-07-28 requests are stateless, one process per request would be too costly, and most stdio
 * servers only speak the 2025 revisions anyway: they are answered `UnsupportedProtocolVersion`
 * listing the 2025 revisions, which a negotiating client (the official SDKs in `auto` mode) takes
 * as its cue to open a 2025 session instead.
 */
export function createStdioUpstream(ctx: AppContext, settings: UpstreamSettings & { command: string }, options: StdioUpstreamOptions = {}): Upstream & { sessions: LegacySessions } {
  const logger = ctx.logger.child({ component: 'gateway' });
  const command = parseCommandLine(settings.command);
  const env = childEnvironment(options.env ?? process.env, settings.passEnv);
  const secrets = secretValuesOf(env, settings.passEnv);
  const resourceMetadataUrl = protectedResourceMetadataUrl(ctx.config);
  /** The bridge each initialize request started, so its handler can wait for the child's answer. */
  const startedBy = new WeakMap<Request, StdioBridge>();

  const sessions = new LegacySessions({
    factory: ({ requestInfo }) => {
      const child = new ChildProcessTransport({ command, env, secrets, logger, ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}) });
      const bridge = new StdioBridge({ child, logger, initializeTimeoutMs: settings.timeout * 1000 });
      if (requestInfo) startedBy.set(requestInfo, bridge);
      return bridge;
    },
    clock: ctx.clock,
    random: ctx.random,
    logger,
    idleTtlMs: ctx.config.mcpSessionIdleTtl * 1000,
    maxSessionsPerSubject: MAX_PROCESSES_PER_SUBJECT,
  });

  async function handle(request: Request, principal: Principal | null, parsedBody: unknown): Promise<Response> {
    if (!(await isLegacyRequest(request, parsedBody))) return onlyLegacyRevisions(request, parsedBody);
    // The child never sees the token: the transport hands authInfo only to the bridge, which ignores it.
    // Without a token (public tools) the sessions are nobody's, and all of them together get one user's share of processes.
    const authInfo = principal ? authInfoFor(principal, ctx.config.resource, resourceMetadataUrl) : undefined;
    let response: Response;
    try {
      response = await sessions.handle(request, principal, authInfo, parsedBody);
    } catch (error) {
      logger.warn('could not start the upstream MCP server', { program: command.program, error: error instanceof Error ? error.message : String(error) });
      return upstreamError(502, UPSTREAM_MESSAGES.unavailable, parsedBody);
    }
    const bridge = startedBy.get(request);
    if (!bridge) return response;
    // The transport refused the initialize request itself (`Accept` without text/event-stream, a
    // batch with initialize…): that 4xx is the client's answer, not an upstream failure; the
    // child, started for nothing, goes (LegacySessions closed it already: this is idempotent).
    if (response.status >= 400) {
      await bridge.close();
      return response;
    }

    // A new session: its response holds the child's answer to initialize, or will. Wait for it, so
    // that a child that hangs or dies at start is a 504/502 rather than a stream that never speaks.
    const outcome = await bridge.initialized;
    if (outcome === 'answered') return response;
    await response.body?.cancel();
    await bridge.close();
    if (outcome === 'timeout') {
      logger.warn('upstream MCP server did not answer initialize in time', { program: command.program, timeout_s: settings.timeout });
      return upstreamError(504, UPSTREAM_MESSAGES.timeout, parsedBody);
    }
    return upstreamError(502, UPSTREAM_MESSAGES.exited, parsedBody);
  }

  return {
    sessions,
    handle,
    sweep: () => sessions.sweep(),
    get sessionCount() {
      return sessions.size;
    },
    close: () => sessions.close(),
  };
}

function onlyLegacyRevisions(request: Request, parsedBody: unknown): Response {
  const error = new UnsupportedProtocolVersionError({
    supported: [...SUPPORTED_PROTOCOL_VERSIONS],
    requested: request.headers.get('MCP-Protocol-Version') ?? 'unknown',
  });
  return Response.json(
    { jsonrpc: '2.0', error: { code: error.code, message: error.message, data: error.data }, id: requestIdOf(parsedBody) },
    { status: 400, headers: { 'Cache-Control': 'no-store' } },
  );
}
