import type { AuthenticateOptions, ResourceServer } from '../resource/resource-server.ts';
import type { Principal } from '../resource/types.ts';
import { authorizationHeaders, metadataResponseFor, writeResponse, type NodeRequestLike, type NodeResponseLike } from './node-io.ts';

/** Express's `next`. */
export type NextFunction = (error?: unknown) => void;

/**
 * Express middleware (4 and 5; typed structurally, so Express is not a dependency): lets the request
 * through with `req.auth` set to the verified principal, or answers the challenge itself.
 *
 * `req.auth` is where the MCP SDK's Streamable HTTP transport looks for `AuthInfo`, and a principal
 * is one, so tools see it as `extra.authInfo`. Types: read it with `requestAuth(req)`. (This module
 * does not augment Express's `Request`: the MCP SDK v1 already declares `auth` there as `AuthInfo`.)
 */
export function expressAuth(server: ResourceServer, options: AuthenticateOptions = {}): (req: NodeRequestLike, res: NodeResponseLike, next: NextFunction) => void {
  return (req, res, next) => {
    server.authenticate(authorizationHeaders(req), options).then((result) => {
      if (result instanceof Response) {
        writeResponse(res, result).catch(next);
        return;
      }
      (req as NodeRequestLike & { auth?: Principal }).auth = result;
      next();
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
