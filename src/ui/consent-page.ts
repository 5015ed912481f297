import type { Branding } from './branding.ts';
import { displayText, html, safeUrl } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';
import { signOutForm, type SignOutForm } from './sign-out.ts';

export type ConsentView = {
  branding: Branding;
  action: string;
  csrfToken: string;
  hidden: Record<string, string>;
  /** The signed-in user; absent when they will sign in at an upstream provider after consenting. */
  user?: { username: string };
  /** "Not you? Sign out" for the signed-in user; it leads back to this request's login page. */
  signOut?: SignOutForm;
  /** The upstream identity provider the user is sent to next (BP-01: consent comes first). */
  signInWith?: string;
  client: {
    name: string;
    clientId: string;
    redirectHost: string;
    allRedirectsLoopback: boolean;
    logoUri?: string;
    clientUri?: string;
  };
  scopes: Array<{ name: string; description: string }>;
  /** Scopes the client asked for that this user cannot grant (Stytch: their roles lack a permission); listed apart. */
  ungrantable?: Array<{ name: string; description: string }>;
  resource: string;
};

// A URL client_id (CIMD) was fetched from its host, so that host is the one
// identity fact we can vouch for; other client IDs are opaque.
function clientIdentity(clientId: string) {
  try {
    const u = new URL(clientId);
    if (u.protocol === 'https:') return html`<code>${u.host}</code> <span class="small">(verified domain)</span>`;
  } catch {}
  return html`<code>${displayText(clientId, 64)}</code>`;
}

function hostOf(url: string | undefined): string | undefined {
  const safe = safeUrl(url);
  return safe ? new URL(safe).host : undefined;
}

export function renderConsentPage(v: ConsentView): string {
  const name = displayText(v.client.name, 60) || 'Unnamed application';
  const logo = safeUrl(v.client.logoUri);
  const website = safeUrl(v.client.clientUri);
  const body = html`<div class="client">
${logo ? html`<img src="${logo}" alt="" referrerpolicy="no-referrer">` : ''}<h1><bdi class="client-name">${name}</bdi> <span class="rest">wants to access your account</span></h1>
</div>
<p class="unverified"><span class="badge">Unverified</span> Name supplied by the application</p>
<div class="destination">
<p class="small">You will be sent back to</p>
<p class="host"><code id="redirect-host">${v.client.redirectHost}</code></p>
</div>
${v.client.allRedirectsLoopback
    ? html`<div class="notice notice-warn" role="note"><p><strong>This application runs on your computer.</strong></p>
<p>Any program on this computer can claim this name. Only continue if you started this sign-in yourself just now.</p></div>`
    : ''}
<h2>It will be able to</h2>
${v.scopes.length
    ? html`<ul class="scopes">${v.scopes.map(
        (s) => html`<li><span class="desc">${s.description}</span><code>${s.name}</code></li>`,
      )}</ul>`
    : html`<p>Use the server with basic access only.</p>`}
${v.ungrantable?.length
    ? html`<h2>It asked for, but will not get</h2>
<p class="small">Your account does not allow granting these.</p>
<ul class="scopes" id="ungrantable">${v.ungrantable.map((s) => html`<li><span class="desc">${s.description}</span><code>${s.name}</code></li>`)}</ul>`
    : ''}
<dl class="facts">
<dt>Server</dt><dd><code>${v.resource}</code></dd>
${v.user ? html`<dt>Signed in as</dt><dd><strong>${v.user.username}</strong></dd>` : ''}
<dt>Application ID</dt><dd>${clientIdentity(v.client.clientId)}</dd>
${website ? html`<dt>Website</dt><dd><a href="${website}" rel="noopener noreferrer">${hostOf(website)}</a> <span class="small">(stated by the application)</span></dd>` : ''}
</dl>
${v.signInWith ? html`<p class="next-step">If you allow, you will sign in with <strong>${displayText(v.signInWith, 60)}</strong> next.</p>` : ''}
<form method="post" action="${v.action}">
${hiddenFields(v.csrfToken, v.hidden)}<div class="actions">
<button type="submit" name="decision" value="deny" class="btn btn-secondary">Deny</button>
<button type="submit" name="decision" value="allow" class="btn btn-primary">Allow</button>
</div>
</form>
${v.signOut ? signOutForm(v.signOut, 'notYou') : ''}
<p class="small fineprint">Only allow access if you trust this application. You can take access back at any time: <a href="/account">Manage access</a>.</p>`;
  return renderLayout({ branding: v.branding, title: `Allow ${displayText(v.client.name, 40) || 'application'}?`, body, wide: true });
}
