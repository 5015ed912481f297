import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type { JWTPayload } from 'jose';
import type { z } from 'zod';
import type { AppContext } from '../../context.ts';

/** Who is calling a tool: taken from the verified access token, never from the request body. */
export interface ToolPrincipal {
  subject: string;
  clientId: string;
  scopes: readonly string[];
  claims: JWTPayload;
}

export interface ToolCall {
  principal: ToolPrincipal;
  app: AppContext;
}

/**
 * A tool and the scopes it needs. The MCP endpoint checks `requiredScopes` before the request
 * reaches the SDK and answers `403 insufficient_scope` naming all of them (RS-12, RS-13b), so a
 * client can step up. Input is validated against `inputSchema` first; a bad input is a tool error
 * result, never an HTTP error.
 */
export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  /** Scopes the token must hold (after the scope hierarchy); empty = any authenticated caller. */
  requiredScopes: readonly string[];
  inputSchema: Input;
  annotations?: ToolAnnotations;
  run(input: z.output<Input>, call: ToolCall): Promise<CallToolResult> | CallToolResult;
  /**
   * For a caller without a token, when the tool policy makes the tool public (`toolPolicy.public`).
   * A tool without it answers such a call with a tool error: it acts for a person, and there is none.
   */
  runAnonymous?(input: z.output<Input>, call: Omit<ToolCall, 'principal'>): Promise<CallToolResult> | CallToolResult;
}

export function defineTool<Input extends z.ZodType>(tool: ToolDefinition<Input>): ToolDefinition<Input> {
  return tool;
}

export interface ToolRegistry {
  list(): readonly ToolDefinition[];
  get(name: string): ToolDefinition | undefined;
  /** Scopes a `tools/call` of `name` needs; none for an unknown tool (the SDK answers that call). */
  requiredScopes(name: string): readonly string[];
}

export function createToolRegistry(tools: readonly ToolDefinition[], knownScopes: ReadonlySet<string>): ToolRegistry {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`Tool ${tool.name} is registered twice`);
    for (const scope of tool.requiredScopes) {
      // Fail at start, not at the first call: a scope nobody can be granted makes the tool unusable.
      if (!knownScopes.has(scope)) throw new Error(`Tool ${tool.name} requires scope ${scope}, which is not among the configured scopes`);
    }
    byName.set(tool.name, tool);
  }
  return {
    list: () => [...byName.values()],
    get: (name) => byName.get(name),
    requiredScopes: (name) => byName.get(name)?.requiredScopes ?? [],
  };
}

/** A successful result: readable text for the model, the same data structured for programs. */
export function jsonResult(data: Record<string, unknown>, text = JSON.stringify(data, null, 2)): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: data };
}

/** A failure the caller can act on (MCP tool error: `isError`, not a protocol error). */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
