import type { McpPolicy } from '../policy/mcp-policy.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import { writeAnswerWithoutToken, type NodeAuthOptions } from './node-anonymous.ts';
import { applyToolPolicyToNode, type NodeStreamResponseLike } from './node-policy.ts';
import type { Principal } from '../resource/types.ts';
import { authenticationRequest, metadataResponseFor, writeResponse, type NodeRequestLike, type NodeResponseLike } from './node-io.ts';

/** Express's `next`. */
export type NextFunction = (error?: unknown) => void;

/**
 * Express middleware (4 and 5; typed structurally, so Express is not a dependency): lets the request
 * through with `req.auth` set to the verified principal, or answers the challenge itself.
 *
 * `req.auth` is where the MCP SDK's Streamable HTTP transport looks for `AuthInfo`, and a principal
 * is one, so tools see it as `extra.authInfo`. Types: read it with `requestAuth(req)`. (This module
 * does not augment Express's `Request`: the MCP SDK v1 already declares `auth` there as `AuthInfo`.)
 *
 * With `toolPolicy` and `anonymous`, a request without a token that the policy lets anyone make
 * (public tools, docs/tool-policy.md) is answered by `anonymous` here, and never reaches `next`.
 */
export function expressAuth(server: ResourceServer, options: NodeAuthOptions = {}): (req: NodeRequestLike, res: NodeResponseLike, next: NextFunction) => void {
  const { toolPolicy, anonymous, ...authOptions } = options;
  return (req, res, next) => {
    server.authenticate(authenticationRequest(server, req), authOptions).then((result) => {
      if (result instanceof Response) {
        writeAnswerWithoutToken(server, req, res, result, { toolPolicy, anonymous }).catch(next);
        return;
      }
      (req as NodeRequestLike & { auth?: Principal }).auth = result;
      next();
    }, next);
  };
}

/**
 * Express middleware applying a tool policy (`createMcpPolicy`) to MCP requests, after `expressAuth`
 * and `express.json()` (it decides on the parsed `req.body`): a forbidden call is answered here, and
 * list answers show only what the caller may use.
 *
 * ```ts
 * app.post('/mcp', expressAuth(rs), express.json(), expressToolPolicy(policy), (req, res) => transport.handleRequest(req, res, req.body));
 * ```
 */
export function expressToolPolicy(toolPolicy: McpPolicy): (req: NodeRequestLike & { body?: unknown }, res: NodeStreamResponseLike, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.method === 'POST' && req.body === undefined) {
      next(new TypeError('expressToolPolicy decides on the parsed body: mount express.json() before it'));
      return;
    }
    applyToolPolicyToNode(toolPolicy, req, res, requestAuth(req), req.body).then((goOn) => {
      if (goOn) next();
    }, next);
  };
}

/** Express middleware answering the Protected Resource Metadata paths (`app.use(expressMetadata(rs))`). */
export function expressMetadata(server: ResourceServer): (req: NodeRequestLike, res: NodeResponseLike, next: NextFunction) => void {
  return (req, res, next) => {
    const response = metadataResponseFor(server, req);
    if (!response) return next();
    writeResponse(res, response).catch(next);
  };
}

/** The principal `expressAuth` (or `nodeAuth`) put on the request; throws when neither ran. */
export function requestAuth(req: object): Principal {
  const auth = (req as { auth?: Principal }).auth;
  if (!auth || typeof auth.subject !== 'string') throw new Error('no verified principal on this request: mount expressAuth(...) before this handler');
  return auth;
}
