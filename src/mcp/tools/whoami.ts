import { z } from 'zod';
import { defineTool, jsonResult } from './registry.ts';

/** Who the token says the caller is. Needs no scope beyond being authenticated. */
export const whoamiTool = defineTool({
  name: 'whoami',
  title: 'Who am I',
  description: 'Shows the signed-in user, the client acting for them and the scopes it was granted.',
  requiredScopes: [],
  inputSchema: z.object({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_input, { principal, app }) {
    // A client_credentials token acts for the client itself (sub_type "client", CC-07): no user to name.
    const subjectType = principal.claims['sub_type'] === 'client' ? 'client' : 'user';
    const user = subjectType === 'user' ? await app.storage.users.byId(principal.subject) : null;
    return jsonResult({
      subject: principal.subject,
      subjectType,
      username: user?.username ?? null,
      clientId: principal.clientId,
      scopes: [...principal.scopes],
    });
  },
});
