import type { McpPolicy } from '../policy/mcp-policy.ts';

/**
 * Serves a caller without a token, when the tool policy makes something `public`
 * (docs/tool-policy.md, "Public tools"): only requests that do nothing but what anyone may do reach
 * it. Give it an MCP server of its own (stateless, or with sessions of its own), so that a session
 * ID of a signed-in caller means nothing there.
 */
export type AnonymousHandler = (request: Request) => Response | Promise<Response>;

/**
 * The answer to a request the resource server refused with `challenge`: served by `anonymous` when
 * the policy lets anyone do what it does, else the challenge (for a `tools/call`, with the Apps SDK
 * tool error as its body). Without a policy or a handler: the challenge as it was.
 */
export async function answerWithoutToken(request: Request, challenge: Response, toolPolicy: McpPolicy | undefined, anonymous: AnonymousHandler | undefined): Promise<Response> {
  if (!toolPolicy || !anonymous) return challenge;
  const checked = await toolPolicy.checkAnonymous(request, challenge);
  return checked.ok ? checked.filter(await anonymous(request)) : checked.response;
}
