import type { Branding } from './branding.ts';
import type { ConnectSnippet } from './connect-snippets.ts';
import { html } from './html.ts';
import { renderLayout } from './layout.ts';

export interface LandingView {
  branding: Branding;
  mcpUrl: string;
  /** Whether the server can serve requests now (its storage answers). */
  ready: boolean;
  connect: ConnectSnippet[];
  /** Hosted clients (Claude.ai, ChatGPT) reach only https servers. */
  https: boolean;
  /** The account page, when this server signs people in (not in resource-only mode). */
  accountUrl?: string;
}

/** `/` for people: what this server is, its MCP URL, how to connect the common clients, and whether it is up. */
export function renderLandingPage(v: LandingView): string {
  const body = html`<h1>Connect to ${v.branding.serverName}</h1>
<p class="lead">An MCP server. Add it to your AI application with the address below; the application opens this site for you to sign in and allow access.</p>
<div class="destination">
<p class="small" id="mcp-url-label">MCP server address</p>
<p class="host"><code id="mcp-url" aria-labelledby="mcp-url-label">${v.mcpUrl}</code></p>
</div>
<p class="status" id="status"><span class="dot ${v.ready ? 'dot-ok' : 'dot-bad'}" aria-hidden="true"></span> ${v.ready ? 'Running: accepting connections' : 'Unavailable: the server cannot reach its database'}</p>
<h2>Connect</h2>
<dl class="connect">
${v.connect.map(
    (c) => html`<dt>${c.client}</dt>
<dd>${c.kind === 'command' ? 'Run' : html`Add to <code>${c.file ?? ''}</code>`}
<pre><code>${c.text}</code></pre></dd>
`,
  )}${v.https ? html`<dt>Claude, ChatGPT</dt><dd>Add the address above as a custom connector.</dd>` : ''}
</dl>
${v.accountUrl ? html`<h2>Your account</h2>
<p><a href="${v.accountUrl}">See and revoke the applications you connected</a></p>` : ''}`;
  return renderLayout({ branding: v.branding, title: 'Connect', body, wide: true });
}
