/**
 * The Protected Resource Metadata (RFC 9728) at `/.well-known/oauth-protected-resource/mcp`, where
 * MCP clients look first, and at `/.well-known/oauth-protected-resource`: it names the resource and
 * the authorization server to get a token from. Readable from any origin.
 */
import { metadataHandler } from 'portcullis';
import { resourceServer } from '../../../../lib/resource-server.ts';

const handler = metadataHandler(resourceServer);

export { handler as GET, handler as HEAD, handler as OPTIONS };
