import { z } from 'zod';
import { SERVER_VERSION } from '../server-factory.ts';
import { defineTool, jsonResult } from './registry.ts';

/**
 * What this server is and whether the caller is signed in. Offered only when the tool policy makes
 * it public (`toolPolicy.public.tools` naming `server_info`): a tool anyone may call, to show public
 * and protected tools side by side (docs/tool-policy.md, "Public tools").
 */
export const serverInfoTool = defineTool({
  name: 'server_info',
  title: 'Server info',
  description: 'Shows the name and version of this MCP server and whether you are signed in. Needs no sign-in.',
  requiredScopes: [],
  inputSchema: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: (_input, { principal, app }) => jsonResult({ name: app.config.serverName, version: SERVER_VERSION, signedIn: true, clientId: principal.clientId }),
  runAnonymous: (_input, { app }) => jsonResult({ name: app.config.serverName, version: SERVER_VERSION, signedIn: false }),
});
