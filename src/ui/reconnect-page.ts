import type { Branding } from './branding.ts';
import { clientConfigName } from './connect-snippets.ts';
import { displayText, html, type SafeHtml } from './html.ts';
import { renderLayout } from './layout.ts';

export interface ReconnectView {
  branding: Branding;
  /** Unknown client_id, or a redirect_uri its registration does not list. */
  reason: 'unknown_client' | 'redirect_uri_mismatch';
  /** The refusal in one sentence (the error's public description). */
  message: string;
  mcpUrl: string;
  /** For "Technical details": what the request named, and the wire error. */
  technical: { error: string; clientId: string; redirectUri?: string; registrationEndpoint?: string };
}

const WHAT_HAPPENED: Record<ReconnectView['reason'], SafeHtml> = {
  unknown_client: html`<p>The application signed in with a registration this server does not know. Usually it saved that registration some time ago, and this server has since forgotten it: it was reset or moved, or it removed registrations that went unused.</p>
<p>To protect your account, you were not sent back to the application.</p>`,
  redirect_uri_mismatch: html`<p>The application asked to send you back to an address that its registration with this server does not list. Usually its saved registration is out of date, for example after an update changed how it receives the answer.</p>
<p>It can also mean someone else made this link, so you were not sent anywhere.</p>`,
};

/**
 * The dead end of a stale client, turned into directions: what happened in plain words, how to make
 * the common MCP clients forget their saved registration and connect again, and the protocol view
 * under "Technical details" for whoever debugs it.
 */
export function renderReconnectPage(v: ReconnectView): string {
  const name = clientConfigName(v.branding.serverName);
  const t = v.technical;
  const body = html`<h1>This sign-in link is not valid</h1>
<p class="lead">${v.message}</p>
<h2>What happened</h2>
${WHAT_HAPPENED[v.reason]}
<h2>How to fix it</h2>
<p>Make the application forget what it saved for this server, then connect again: it registers afresh and brings you back here to sign in.</p>
<dl class="connect">
<dt>mcp-remote</dt>
<dd>Delete its saved sign-ins, then restart the application that runs it:<pre><code>rm -rf ~/.mcp-auth</code></pre></dd>
<dt>Claude Code</dt>
<dd>Run <code>/mcp</code>, choose this server and <strong>Clear authentication</strong>, then authenticate again. Or add it afresh:<pre><code>claude mcp remove ${name}
claude mcp add --transport http ${name} ${v.mcpUrl}</code></pre></dd>
<dt>Cursor</dt>
<dd>In <strong>Cursor Settings → MCP</strong>, remove this server, then add it again with the address <code>${v.mcpUrl}</code>.</dd>
<dt>VS Code</dt>
<dd>Run <strong>Authentication: Remove Dynamic Authentication Providers</strong> from the Command Palette (or <strong>Manage Dynamic Authentication Providers</strong> in the Accounts menu), remove this server, then start it again from <strong>MCP: List Servers</strong>.</dd>
<dt>Other applications</dt>
<dd>Sign out of this server or reset its authentication in the application, or remove the server and add it again.</dd>
</dl>
<p class="small">If it keeps happening, contact this server's administrator.</p>
<details><summary>Technical details</summary>
<dl class="facts">
<dt>Error</dt><dd><code>${t.error}</code></dd>
<dt>client_id</dt><dd><code>${displayText(t.clientId, 120)}</code></dd>
${t.redirectUri !== undefined ? html`<dt>redirect_uri</dt><dd><code>${displayText(t.redirectUri, 200)}</code></dd>` : ''}
</dl>
${v.reason === 'unknown_client'
    ? html`<p>The client_id is not registered at this authorization server. As OAuth 2.1 §4.1.2.1 requires for an unknown client, the error is shown here and not sent to the redirect_uri. The client should discard its stored client information and register again${t.registrationEndpoint ? html` (RFC 7591 dynamic client registration at <code>${t.registrationEndpoint}</code>)` : ''}, then start a new authorization request.</p>`
    : html`<p>The redirect_uri does not exactly match any redirect URI registered for this client_id (OAuth 2.1 §2.3.1; only a loopback port may differ, RFC 8252 §7.3). An unverified redirect_uri is never redirected to (OAuth 2.1 §4.1.2.1). The client should register again with its current redirect URI, or use one it registered.</p>`}
</details>`;
  return renderLayout({ branding: v.branding, title: 'This sign-in link is not valid', body, wide: true });
}
