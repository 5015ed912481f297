import { decodeText, readCappedBody } from '../http/capped-body.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import type { DebugLogger, Principal } from '../resource/types.ts';
import { policyCallerFrom } from './caller.ts';
import { createToolPolicy, type ToolPolicy, type ToolPolicyOptions } from './decide.ts';
import { createMcpPolicyGuard, dpopAlgorithmsOf, type PolicyCheck } from './enforce.ts';

/** Bodies larger than this are not read for policy; the MCP SDK's own bound is the same (4 MiB). */
const MAX_POLICY_BODY_BYTES = 4 * 1024 * 1024;

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
      const read = await readCappedBody(request.clone(), MAX_POLICY_BODY_BYTES, { trustDeclaredLength: true });
      // Fail closed: a body the policy cannot read is not passed on undecided.
      if (!read.ok) return { ok: false, response: Response.json({ jsonrpc: '2.0', error: { code: -32600, message: 'Request body too large' }, id: null }, { status: 413 }) };
      let body: unknown;
      try {
        body = JSON.parse(decodeText(read.bytes));
      } catch {
        // Not JSON: it cannot call anything, and the MCP server answers the parse error itself.
        return pass;
      }
      return checkParsed(request.headers, principal, body);
    },
  };
}
