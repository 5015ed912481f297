import type { ToolDefinition } from './registry.ts';
import { taskTools } from './tasks.ts';
import { whoamiTool } from './whoami.ts';

/** The tools every Portcullis MCP endpoint offers (those whose scopes are configured). */
export const builtInTools: readonly ToolDefinition[] = [whoamiTool, ...taskTools];
