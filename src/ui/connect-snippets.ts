/** How to add this server to one MCP client: the start banner prints these lines, the landing page shows them. */
export interface ConnectSnippet {
  client: string;
  /** A command to run, or configuration to put in `file`. */
  kind: 'command' | 'config';
  text: string;
  file?: string;
}

/**
 * The name the server is added under in a client's configuration: the server's name as a lower-case
 * word (`Acme Notes` → `acme-notes`), so it is safe in a shell command and a JSON key.
 */
export function clientConfigName(serverName: string): string {
  return serverName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'portcullis';
}

export function connectSnippets(mcpUrl: string, serverName: string): ConnectSnippet[] {
  const name = clientConfigName(serverName);
  const snippets: ConnectSnippet[] = [
    { client: 'Claude Code', kind: 'command', text: `claude mcp add --transport http ${name} ${mcpUrl}` },
    { client: 'VS Code', kind: 'config', text: `"servers": { "${name}": { "type": "http", "url": "${mcpUrl}" } }`, file: '.vscode/mcp.json' },
    { client: 'Cursor', kind: 'config', text: `"mcpServers": { "${name}": { "url": "${mcpUrl}" } }`, file: '~/.cursor/mcp.json' },
    { client: 'Any client', kind: 'command', text: `npx mcp-remote ${mcpUrl}` },
  ];
  return snippets;
}
