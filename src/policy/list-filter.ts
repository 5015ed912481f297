import type { ListMethod } from './mcp-messages.ts';
import type { PolicyTargetKind } from './types.ts';

/**
 * `tools/list`, `resources/list`, `resources/templates/list` and `prompts/list` answers with only what the caller may use
 * (SEP-1881 scope-filtered discovery). It works on the HTTP response whoever produced it (the
 * built-in SDK server, an upstream behind the gateway, a library user's server), as JSON or as an
 * SSE stream, so one mechanism serves all three. Only responses to the list requests of this very
 * body (matched by id) are touched; every other message passes unchanged.
 */

/** Whether the caller may use the named target. */
export type IsVisible = (kind: PolicyTargetKind, name: string) => Promise<boolean>;
/** Adds to a listed item what the caller should know of it (its `securitySchemes`), in place. */
export type Annotate = (kind: PolicyTargetKind, name: string, item: Record<string, unknown>) => void;

export async function filterListResponse(response: Response, lists: ReadonlyMap<string | number, ListMethod>, isVisible: IsVisible, annotate?: Annotate): Promise<Response> {
  if (lists.size === 0 || !response.body) return response;
  const type = response.headers.get('content-type')?.toLowerCase() ?? '';
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const init = { status: response.status, statusText: response.statusText, headers };
  if (type.startsWith('application/json')) {
    const text = await response.text();
    return new Response(await rewriteJson(text, lists, isVisible, annotate), init);
  }
  if (type.startsWith('text/event-stream')) {
    const rewritten = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(sseRewriter(lists, isVisible, annotate)).pipeThrough(new TextEncoderStream());
    return new Response(rewritten, init);
  }
  return response;
}

/** The JSON text with its list results filtered; the text unchanged when nothing in it is a list result. */
async function rewriteJson(text: string, lists: ReadonlyMap<string | number, ListMethod>, isVisible: IsVisible, annotate?: Annotate): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  let changed = false;
  for (const message of messages) changed = (await filterMessage(message, lists, isVisible, annotate)) || changed;
  return changed ? JSON.stringify(parsed) : text;
}

/** Filters, in place, the result of a response to one of `lists`; says whether it did. */
async function filterMessage(message: unknown, lists: ReadonlyMap<string | number, ListMethod>, isVisible: IsVisible, annotate?: Annotate): Promise<boolean> {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const { id, result } = message as { id?: unknown; result?: unknown };
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof result !== 'object' || result === null) return false;
  const list = lists.get(id);
  if (!list) return false;
  const items = (result as Record<string, unknown>)[list.items];
  if (!Array.isArray(items)) return false;
  const kept: unknown[] = [];
  for (const item of items) {
    const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[list.name] : undefined;
    // An item without a name cannot be decided on: it is not shown.
    if (typeof name !== 'string' || !(await isVisible(list.kind, name))) continue;
    annotate?.(list.kind, name, item as Record<string, unknown>);
    kept.push(item);
  }
  (result as Record<string, unknown>)[list.items] = kept;
  return true;
}

/**
 * An SSE stream with the data of list results rewritten. Events are cut at blank lines (any of the
 * three line endings SSE allows); the data of an event is its `data:` lines joined. Other fields
 * (`id:`, `event:`, `retry:`, comments) are kept as they came, so resumption keeps working.
 */
function sseRewriter(lists: ReadonlyMap<string | number, ListMethod>, isVisible: IsVisible, annotate?: Annotate): TransformStream<string, string> {
  let buffer = '';
  const rewriteEvent = async (block: string): Promise<string> => {
    const lines = block.split('\n');
    const dataLines = lines.filter((l) => l.startsWith('data:'));
    if (dataLines.length === 0) return block;
    const data = dataLines.map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return block;
    }
    if (!(await filterMessage(message, lists, isVisible, annotate))) return block;
    const out: string[] = [];
    let written = false;
    for (const line of lines) {
      if (!line.startsWith('data:')) out.push(line);
      else if (!written) {
        out.push(`data: ${JSON.stringify(message)}`);
        written = true;
      }
    }
    return out.join('\n');
  };
  return new TransformStream<string, string>({
    async transform(chunk, controller) {
      buffer += chunk;
      // A trailing CR may be the first half of a CRLF: keep it until the next chunk.
      const keepCr = buffer.endsWith('\r');
      const normalized = (keepCr ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, '\n');
      const events = normalized.split('\n\n');
      buffer = events.pop()! + (keepCr ? '\r' : '');
      for (const event of events) controller.enqueue(`${await rewriteEvent(event)}\n\n`);
    },
    flush(controller) {
      if (buffer.length > 0) controller.enqueue(buffer);
    },
  });
}
