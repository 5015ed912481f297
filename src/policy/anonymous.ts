import type { ToolPolicy } from './decide.ts';
import { isTargetedMethod, messageTarget } from './mcp-messages.ts';

/**
 * What a caller without a token may send when the policy makes some targets public (issue 14 part
 * 6): getting started (2025 `initialize`, 2026-07-28 `server/discover`), looking around (the
 * lists), and using a public target. Everything else is for signed-in callers: answers to a
 * server's requests (sampling, elicitation: nobody to ask), logging, templates, tasks, unknown methods.
 */
const ANONYMOUS_METHODS = new Set(['initialize', 'server/discover', 'notifications/initialized', 'ping', 'notifications/cancelled', 'tools/list', 'resources/list', 'prompts/list']);

/** Whether a caller without a token may send this one message. */
export function anonymousMayDo(policy: Pick<ToolPolicy, 'isPublic'>, message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const { method } = message as { method?: unknown };
  if (typeof method !== 'string') return false;
  if (ANONYMOUS_METHODS.has(method)) return true;
  if (!isTargetedMethod(method)) return false;
  // A target named by something other than a string (`null`) or not at all (undefined) is nothing public.
  const target = messageTarget(message);
  return target !== undefined && target !== null && policy.isPublic(target);
}
