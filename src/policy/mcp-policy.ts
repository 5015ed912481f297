import { decodeText, readCappedBody } from '../http/capped-body.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import type { DebugLogger, Principal } from '../resource/types.ts';
import { policyCallerFrom } from './caller.ts';
import { createToolPolicy, type ToolPolicy, type ToolPolicyOptions } from './decide.ts';
import { createMcpPolicyGuard, dpopAlgorithmsOf, type PolicyCheck } from './enforce.ts';
import { signInResult } from './sign-in-result.ts';

/** Bodies larger than this are not read for policy; the MCP SDK's own bound is the same (4 MiB). */
const MAX_POLICY_BODY_BYTES = 4 * 1024 * 1024;
/** What is read of a request without a token, as the built-in endpoint does: a larger one gets the challenge. */
const MAX_ANONYMOUS_BODY_BYTES = 64 * 1024;

export interface McpPolicyOptions extends Omit<ToolPolicyOptions, 'permissions'> {
  /** `tools/list`, `resources/list` and `prompts/list` show only what the caller may use. Default true. */
  filterLists?: boolean;
  /** The token claim holding the caller's groups or roles (default `groups`; `false`: none). */
  groupsClaim?: string | false;
  /** Groups the caller has beyond the claim (e.g. from your user database). */
  groups?: (principal: Principal) => readonly string[] | Promise<readonly string[]>;
  logger?: DebugLogger;
}

/** A tool policy for one protected MCP endpoint of your own, for the adapters' `toolPolicy` option. */
export interface McpPolicy {
  readonly policy: ToolPolicy;
  /**
   * Checks one request of an authenticated caller (a POST's body is read from a copy, so your MCP
   * transport still gets the original): the refusal to send, or the filter to pass the MCP
   * server's response through.
   */
  check(request: Request, principal: Principal): Promise<PolicyCheck>;
  /** The same for a body your framework has already parsed (Express's `req.body`). */
  checkParsed(headers: Headers, principal: Principal, body: unknown): Promise<PolicyCheck>;
  /**
   * For a request the resource server answered with `challenge` (its 401), when the policy makes
   * something `public`: a POST without any credentials (of at most 64 KiB) that only does what
   * anyone may (initialize, the lists, a public tool) is let through, to be served as nobody, and so
   * are the GET and DELETE of a session (`Mcp-Session-Id`) without credentials, for the anonymous
   * server's own sessions; anything else gets the challenge (for a `tools/call`, with the Apps SDK's
   * tool error in its body, ./sign-in-result.ts).
   */
  checkAnonymous(request: Request, challenge: Response): Promise<PolicyCheck>;
}

const pass: PolicyCheck = { ok: true, filtering: false, filter: async (response) => response };

/**
 * Tool-level authorization for an MCP server you run yourself, decided exactly as Portcullis's own
 * endpoint decides it (src/policy/decide.ts): rules by tool, resource and prompt name with `*`,
 * scopes, groups or roles (from a claim, or your own lookup), Stytch B2B organizations, and Stytch
 * RBAC permissions, which use the resource server's verifier (`createStytchVerifier` with the
 * project secret). Challenges name the resource server's metadata URL.
 *
 * ```ts
 * const policy = createMcpPolicy(rs, { rules: [{ tools: ['delete_*'], scopes: ['admin'] }] });
 * app.all('/mcp', honoAuth(rs, { toolPolicy: policy }), (c) => transport.handleRequest(c.req.raw));
 * ```
 */
export function createMcpPolicy(resourceServer: Pick<ResourceServer, 'resourceMetadataUrl' | 'permissions'> & Partial<Pick<ResourceServer, 'metadata'>>, options: McpPolicyOptions = {}): McpPolicy {
  const { filterLists, groupsClaim, groups, logger, ...decisionOptions } = options;
  const policy = createToolPolicy({ ...decisionOptions, ...(resourceServer.permissions ? { permissions: resourceServer.permissions } : {}) });
  const guard = createMcpPolicyGuard({ policy, resourceMetadataUrl: resourceServer.resourceMetadataUrl, ...dpopAlgorithmsOf(resourceServer), ...(filterLists !== undefined ? { filterLists } : {}), ...(logger ? { logger } : {}) });

  const checkParsed = async (headers: Headers, principal: Principal, body: unknown): Promise<PolicyCheck> => {
    const extra = groups ? await groups(principal) : undefined;
    const caller = policyCallerFrom(principal, { ...(groupsClaim !== undefined ? { groupsClaim } : {}), ...(extra ? { groups: extra } : {}) });
    return guard.check({ headers }, caller, body);
  };

  return {
    policy,
    checkParsed,
    async check(request, principal) {
      // GET (a stream) and DELETE carry no request to decide on.
      if (request.method !== 'POST' || request.body === null) return pass;
      const read = await readPolicyBody(request);
      // Not JSON: it cannot call anything, and the MCP server answers the parse error itself.
      if (read === undefined) return pass;
      return 'response' in read ? { ok: false, response: read.response } : checkParsed(request.headers, principal, read.body);
    },
    async checkAnonymous(request, challenge) {
      const refuse: PolicyCheck = { ok: false, response: challenge };
      if (!policy.hasPublic || challenge.status !== 401 || request.headers.has('Authorization')) return refuse;
      // A caller without a token keeps up the session it opened without one (its GET stream, its
      // DELETE), as on Portcullis's own endpoint: the anonymous server knows only its own sessions.
      if ((request.method === 'GET' || request.method === 'DELETE') && request.headers.has('Mcp-Session-Id')) return pass;
      if (request.method !== 'POST' || request.body === null) return refuse;
      const read = await readPolicyBody(request, MAX_ANONYMOUS_BODY_BYTES);
      // Not JSON, or too large to be anything a caller without a token may send: the challenge.
      if (read === undefined || 'response' in read) return refuse;
      const checked = await guard.checkAnonymous(request, read.body);
      return checked === 'sign-in' ? { ok: false, response: signInResult(challenge, read.body) } : checked;
    },
  };
}

/** The JSON body of a POST, read from a copy; undefined when it is not JSON; the refusal when it is too large. */
async function readPolicyBody(request: Request, maxBytes = MAX_POLICY_BODY_BYTES): Promise<{ body: unknown } | { response: Response } | undefined> {
  const read = await readCappedBody(request.clone(), maxBytes, { trustDeclaredLength: true });
  // Fail closed: a body the policy cannot read is not passed on undecided.
  if (!read.ok) return { response: Response.json({ jsonrpc: '2.0', error: { code: -32600, message: 'Request body too large' }, id: null }, { status: 413 }) };
  try {
    return { body: JSON.parse(decodeText(read.bytes)) };
  } catch {
    return undefined;
  }
}
