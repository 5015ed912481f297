import { presentedScheme } from '../resource/bearer.ts';
import { bearerChallengeResponse } from '../resource/challenge.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import { VerifierUnavailableError, type DebugLogger } from '../resource/types.ts';
import { NO_STORE } from '../util/no-store.ts';
import type { ToolPolicy } from './decide.ts';
import { filterListResponse } from './list-filter.ts';
import { anonymousMayDo } from './anonymous.ts';
import { hasDuplicateRequestIds, listRequests, messagesOf, targetedMessages, type JsonRpcId } from './mcp-messages.ts';
import { annotateTool, securitySchemesFor } from './security-schemes.ts';
import { signInResult } from './sign-in-result.ts';
import { HEADER_MISMATCH_CODE, routingHeaderMismatch } from './routing-headers.ts';
import type { PolicyCaller, PolicyDecision, PolicyTarget } from './types.ts';

/** The JSON-RPC error code of a request the policy refuses outright (no scope would help). */
export const POLICY_DENIED_CODE = -32003;

export interface McpPolicyGuardOptions {
  policy: ToolPolicy;
  /** The Protected Resource Metadata URL named in `403 insufficient_scope` challenges. */
  resourceMetadataUrl: string;
  /** The DPoP proof algorithms of the resource server (`algs` of a `DPoP` challenge, RFC 9449 §7.1). */
  dpopAlgorithms?: readonly string[];
  /** `tools/list`, `resources/list` and `prompts/list` show only what the caller may use. Default true. */
  filterLists?: boolean;
  /** Refusals go to `debug` with their reason (never the token), an unreachable permission source to `warn`. */
  logger?: DebugLogger;
}

export type PolicyCheck =
  | { ok: false; response: Response }
  /**
   * Let the request through, and pass its response through `filter`; `filtering` says whether that
   * changes anything (the body has list requests and lists are filtered), so a caller that must
   * buffer a response to filter it (node:http) need not otherwise.
   */
  | { ok: true; filtering: boolean; filter: (response: Response) => Promise<Response> };

/** Applies a tool policy to MCP requests over HTTP: one per endpoint, for any framework. */
export interface McpPolicyGuard {
  /**
   * Checks a POSTed JSON-RPC body (one message or a batch) for `caller`, in order: a batch with
   * two requests of one id (400, `-32600`); the `Mcp-Method`/`Mcp-Name` headers against the body (400, `-32020`); every `tools/call`,
   * `resources/read` and `prompts/get` against the policy: a `403 insufficient_scope` challenge
   * naming the scopes when more scope would help (RS-12, RS-13b), a JSON-RPC error (`-32003`,
   * HTTP 200) when none would. When the policy makes something public, tools in lists carry their
   * `securitySchemes` (./security-schemes.ts), and a step-up challenge of a `tools/call` has the Apps
   * SDK's tool error as its body (./sign-in-result.ts).
   */
  check(request: Pick<Request, 'headers'>, caller: PolicyCaller, body: unknown): Promise<PolicyCheck>;
  /**
   * Checks a POSTed body sent without a token, when the policy makes some targets public: `sign-in`
   * unless every message in it is one a caller without a token may send (initialize, ping, the
   * lists, and using a public target), in which case the routing headers are checked as for anyone
   * and the lists are shown with every target some signed-in caller could use (so a client learns
   * that signing in is worth it), tools annotated with their `securitySchemes`.
   */
  checkAnonymous(request: Pick<Request, 'headers'>, body: unknown): Promise<PolicyCheck | 'sign-in'>;
}

/** A resource server's DPoP proof algorithms (from its PRM), for the guard's options. */
export function dpopAlgorithmsOf(resourceServer: Partial<Pick<ResourceServer, 'metadata'>>): { dpopAlgorithms?: readonly string[] } {
  const algs = resourceServer.metadata?.dpop_signing_alg_values_supported;
  return algs ? { dpopAlgorithms: algs } : {};
}

const silent: DebugLogger = { debug() {}, warn() {} };
const unchanged = async (response: Response): Promise<Response> => response;

export function createMcpPolicyGuard(options: McpPolicyGuardOptions): McpPolicyGuard {
  const { policy, resourceMetadataUrl } = options;
  const filterLists = options.filterLists ?? true;
  const logger = options.logger ?? silent;
  // Security schemes only where some tools are public (Apps SDK mixed auth): otherwise lists are as they were.
  const annotating = policy.hasPublic;
  const annotate = annotating
    ? (kind: PolicyTarget['kind'], name: string, item: Record<string, unknown>) => {
        if (kind === 'tool') annotateTool(item, securitySchemesFor(policy, { kind, name }));
      }
    : undefined;

  return {
    async check(request, caller, body) {
      if (hasDuplicateRequestIds(body)) return refuse(duplicateIds());
      const mismatch = routingHeaderMismatch(request.headers, body);
      if (mismatch) return refuse(jsonRpcError(400, HEADER_MISMATCH_CODE, `Bad Request: ${mismatch}`, singleId(body)));

      const targeted = targetedMessages(body);
      for (const m of targeted) {
        if (m.target === null) return refuse(jsonRpcError(400, -32602, `Invalid params: ${m.method} must name what it acts on (a string name, uri or ref)`, m.id));
      }

      let decisions: { id: JsonRpcId; target: PolicyTarget; decision: PolicyDecision }[];
      try {
        decisions = await Promise.all(targeted.map(async (m) => ({ id: m.id, target: m.target!, decision: await policy.decide(caller, m.target!) })));
      } catch (error) {
        if (!(error instanceof VerifierUnavailableError)) throw error;
        logger.warn('tool policy could not be decided', { error: error.message });
        return refuse(unavailable());
      }

      const denied = decisions.find((d) => d.decision.effect === 'deny');
      if (denied && denied.decision.effect === 'deny') {
        logger.debug('tool policy denied', { subject: caller.subject, kind: denied.target.kind, name: denied.target.name, reason: denied.decision.reason });
        // The reason stays in the log: the caller learns what was refused, not how the policy is built.
        return refuse(jsonRpcError(200, POLICY_DENIED_CODE, `Forbidden: you may not use the ${denied.target.kind} ${JSON.stringify(denied.target.name)}.`, Array.isArray(body) ? null : denied.id));
      }
      const needed = [...new Set(decisions.flatMap((d) => (d.decision.effect === 'step-up' ? d.decision.scopes : [])))];
      if (needed.length > 0) {
        logger.debug('tool policy needs more scope', { subject: caller.subject, required: needed });
        const challenge = bearerChallengeResponse({
          // RFC 9449 §7.1: a caller that authenticated with DPoP is challenged under DPoP.
          ...(presentedScheme(request) === 'DPoP' ? { scheme: 'DPoP' as const, ...(options.dpopAlgorithms ? { algs: options.dpopAlgorithms } : {}) } : {}),
          error: 'insufficient_scope',
          errorDescription: `This operation requires the scope${needed.length > 1 ? 's' : ''} ${needed.join(' ')}.`,
          scopes: needed,
          resourceMetadata: resourceMetadataUrl,
        });
        // With public tools, clients such as ChatGPT read the challenge from the tool's answer too.
        return refuse(policy.hasPublic ? signInResult(challenge, body) : challenge);
      }

      const lists = filterLists || annotating ? listRequests(body) : new Map();
      if (lists.size === 0) return { ok: true, filtering: false, filter: unchanged };
      const isVisible = async (kind: PolicyTarget['kind'], name: string): Promise<boolean> => {
        if (!filterLists) return true;
        try {
          return (await policy.decide(caller, { kind, name })).effect === 'allow';
        } catch (error) {
          // Fail closed: an item that cannot be decided on is not shown.
          if (!(error instanceof VerifierUnavailableError)) throw error;
          logger.warn('tool policy could not be decided for a list', { error: error.message });
          return false;
        }
      };
      return { ok: true, filtering: true, filter: (response) => filterListResponse(response, lists, isVisible, annotate) };
    },

    async checkAnonymous(request, body) {
      if (!policy.hasPublic) return 'sign-in';
      if (hasDuplicateRequestIds(body)) return refuse(duplicateIds());
      const messages = messagesOf(body);
      if (messages.length === 0 || !messages.every((m) => anonymousMayDo(policy, m))) return 'sign-in';
      const mismatch = routingHeaderMismatch(request.headers, body);
      if (mismatch) return refuse(jsonRpcError(400, HEADER_MISMATCH_CODE, `Bad Request: ${mismatch}`, singleId(body)));
      const lists = listRequests(body);
      if (lists.size === 0) return { ok: true, filtering: false, filter: unchanged };
      const isVisible = async (kind: PolicyTarget['kind'], name: string): Promise<boolean> => !filterLists || policy.isReachable({ kind, name });
      return { ok: true, filtering: true, filter: (response) => filterListResponse(response, lists, isVisible, annotate) };
    },
  };
}

const refuse = (response: Response): PolicyCheck => ({ ok: false, response });

function jsonRpcError(status: number, code: number, message: string, id: JsonRpcId): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id }, { status, headers: NO_STORE });
}

function singleId(body: unknown): JsonRpcId {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

const duplicateIds = (): Response => jsonRpcError(400, -32600, 'Invalid Request: two requests in the batch have the same id', null);

function unavailable(): Response {
  return Response.json(
    { error: 'temporarily_unavailable', error_description: 'The permission policy cannot be read right now. Try again shortly.' },
    { status: 503, headers: { ...NO_STORE, 'Retry-After': '5' } },
  );
}
