import type { PolicyTarget, PolicyTargetKind } from './types.ts';

/**
 * What the policy needs of a JSON-RPC body, read before the MCP server sees it: the targets of the
 * requests that act on something, and the list requests whose answers are filtered.
 */

/** The methods that act on one named target, and the `params` field that names it. */
const TARGETED: Readonly<Record<string, { kind: PolicyTargetKind; field: string }>> = {
  'tools/call': { kind: 'tool', field: 'name' },
  'resources/read': { kind: 'resource', field: 'uri' },
  // Subscribing to a resource is reading it later: the same decision.
  'resources/subscribe': { kind: 'resource', field: 'uri' },
  'prompts/get': { kind: 'prompt', field: 'name' },
};

/**
 * `completion/complete` names a prompt (`ref/prompt`) or a resource template (`ref/resource`) whose
 * arguments it completes: asking about a prompt or resource one may not use is refused like using it.
 */
function completionTarget(params: unknown): PolicyTarget | null | undefined {
  const ref = typeof params === 'object' && params !== null ? (params as { ref?: unknown }).ref : undefined;
  if (typeof ref !== 'object' || ref === null) return null;
  const { type, name, uri } = ref as { type?: unknown; name?: unknown; uri?: unknown };
  if (type === 'ref/prompt') return typeof name === 'string' ? { kind: 'prompt', name } : null;
  if (type === 'ref/resource') return typeof uri === 'string' ? { kind: 'resource', name: uri } : null;
  // Another kind of reference names nothing this policy decides on.
  return undefined;
}

/** The list methods, the field of their result that holds the items, and the field that names an item. */
export interface ListMethod {
  kind: PolicyTargetKind;
  /** The field of the result that holds the items. */
  items: string;
  /** The field of an item that names it. */
  name: string;
}

export const LISTS: Readonly<Record<string, ListMethod>> = {
  'tools/list': { kind: 'tool', items: 'tools', name: 'name' },
  'resources/list': { kind: 'resource', items: 'resources', name: 'uri' },
  // A template is decided by its URI template, the same string `completion/complete` names it by.
  'resources/templates/list': { kind: 'resource', items: 'resourceTemplates', name: 'uriTemplate' },
  'prompts/list': { kind: 'prompt', items: 'prompts', name: 'name' },
};

export type JsonRpcId = string | number | null;

export type TargetedMessage =
  | { id: JsonRpcId; target: PolicyTarget }
  /** A targeted method whose name is not a string: nothing a policy can decide on. */
  | { id: JsonRpcId; target: null; method: string };

export const messagesOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);

function idOf(message: { id?: unknown }): JsonRpcId {
  return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
}

/**
 * What one message acts on: its target, `null` when it names one that is not a string (nothing a
 * policy can decide on), or undefined when it acts on nothing (another method, or a name left out).
 */
export function messageTarget(message: unknown): PolicyTarget | null | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method === 'completion/complete') return completionTarget(params);
  if (typeof method !== 'string' || !Object.hasOwn(TARGETED, method)) return undefined;
  const { kind, field } = TARGETED[method]!;
  const name = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  // Naming nothing acts on nothing: the server answers it as it answers any malformed request (or a
  // method its protocol revision removed). A name that is there but not a string is refused.
  if (name === undefined) return undefined;
  return typeof name === 'string' ? { kind, name } : null;
}

/** Whether a method acts on a target (`tools/call`, `resources/read`, …). */
export const isTargetedMethod = (method: string): boolean => method === 'completion/complete' || Object.hasOwn(TARGETED, method);

/** The messages of a body (one or a batch) that act on a target. */
export function targetedMessages(body: unknown): TargetedMessage[] {
  const out: TargetedMessage[] = [];
  for (const message of messagesOf(body)) {
    const target = messageTarget(message);
    if (target === undefined) continue;
    const { method } = message as { method: string };
    out.push(target ? { id: idOf(message as { id?: unknown }), target } : { id: idOf(message as { id?: unknown }), target: null, method });
  }
  return out;
}

/**
 * Whether two requests of a batch share an id. Their answers could not be told apart: a list's
 * answer could be filtered as another list's (`listRequests` is by id), so such a batch is refused.
 */
export function hasDuplicateRequestIds(body: unknown): boolean {
  if (!Array.isArray(body)) return false;
  const seen = new Set<string | number>();
  for (const message of body) {
    if (typeof message !== 'object' || message === null || typeof (message as { method?: unknown }).method !== 'string') continue;
    const id = idOf(message);
    if (id === null) continue;
    if (seen.has(id)) return true;
    seen.add(id);
  }
  return false;
}

/** The list requests of a body, by id: the responses to filter, and how. */
export function listRequests(body: unknown): Map<string | number, ListMethod> {
  const out = new Map<string | number, ListMethod>();
  for (const message of messagesOf(body)) {
    if (typeof message !== 'object' || message === null) continue;
    const { method } = message as { method?: unknown };
    const id = idOf(message);
    if (typeof method === 'string' && Object.hasOwn(LISTS, method) && id !== null) out.set(id, LISTS[method]!);
  }
  return out;
}

/** The names of the tools a body (one message or a batch) calls. */
export function calledToolNames(body: unknown): string[] {
  return targetedMessages(body).flatMap((m) => (m.target?.kind === 'tool' ? [m.target.name] : []));
}
