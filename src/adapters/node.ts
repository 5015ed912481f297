import type { McpPolicy } from '../policy/mcp-policy.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import { writeAnswerWithoutToken, type NodeAuthOptions } from './node-anonymous.ts';
import { applyToolPolicyToNode, type NodeStreamResponseLike } from './node-policy.ts';
import type { Principal } from '../resource/types.ts';
import { authenticationRequest, metadataResponseFor, writeResponse, type NodeRequestLike, type NodeResponseLike } from './node-io.ts';

/**
 * For node:http servers: `(req, res) => principal | undefined`. When the request may not pass, the
 * challenge (`401`/`403`/`503`) has been written to `res` and the result is `undefined`: just return.
 * The principal is also set as `req.auth`, where the MCP SDK's Node transports look for `AuthInfo`.
 * With `toolPolicy` and `anonymous`, a request without a token that the policy lets anyone make
 * (public tools, docs/tool-policy.md) has been answered by `anonymous` instead: `undefined` too.
 *
 * ```ts
 * const authenticate = nodeAuth(rs);
 * http.createServer(async (req, res) => {
 *   if (await serveMetadata(req, res)) return;
 *   const auth = await authenticate(req, res);
 *   if (!auth) return;
 *   …
 * });
 * ```
 */
export function nodeAuth(server: ResourceServer, options: NodeAuthOptions = {}): (req: NodeRequestLike, res: NodeResponseLike) => Promise<Principal | undefined> {
  const { toolPolicy, anonymous, ...authOptions } = options;
  return async (req, res) => {
    const result = await server.authenticate(authenticationRequest(server, req), authOptions);
    if (result instanceof Response) {
      await writeAnswerWithoutToken(server, req, res, result, { toolPolicy, anonymous });
      return undefined;
    }
    (req as NodeRequestLike & { auth?: Principal }).auth = result;
    return result;
  };
}

/** For node:http servers: writes the Protected Resource Metadata when `req` asks for it and says whether it did. */
export function nodeMetadata(server: ResourceServer): (req: NodeRequestLike, res: NodeResponseLike) => Promise<boolean> {
  return async (req, res) => {
    const response = metadataResponseFor(server, req);
    if (!response) return false;
    await writeResponse(res, response);
    return true;
  };
}

/**
 * For node:http servers: applies a tool policy (`createMcpPolicy`) to a request `nodeAuth` let
 * through, given its parsed JSON body. Returns false when it has written the refusal (just return);
 * true to hand the request to the MCP transport, whose list answers are then filtered.
 *
 * ```ts
 * const applyPolicy = nodeToolPolicy(policy);
 * const auth = await authenticate(req, res);
 * if (!auth || !(await applyPolicy(req, res, auth, body))) return;
 * await transport.handleRequest(req, res, body);
 * ```
 */
export function nodeToolPolicy(toolPolicy: McpPolicy): (req: NodeRequestLike, res: NodeStreamResponseLike, auth: Principal, body: unknown) => Promise<boolean> {
  return (req, res, auth, body) => applyToolPolicyToNode(toolPolicy, req, res, auth, body);
}
