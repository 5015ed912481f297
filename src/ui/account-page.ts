import type { Branding } from './branding.ts';
import { formatTime, isoTime } from './format.ts';
import { displayText, html, type SafeHtml } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';
import { signOutForm, type SignOutForm } from './sign-out.ts';

/** How far a client's identity can be trusted, as the account page says it. */
export type ClientTrust =
  /** A client ID metadata document: fetched from its domain, the one fact we can vouch for. */
  | { kind: 'domain'; host: string }
  /** Added by this server's operator (`portcullis clients add`). */
  | { kind: 'operator' }
  /** Registered itself (RFC 7591): its name is its own claim. */
  | { kind: 'self' }
  /** The client is gone (removed, or its document cannot be read now). */
  | { kind: 'unknown' };

export interface ConnectedApp {
  grantId: string;
  name: string;
  trust: ClientTrust;
  /** Where it sends the browser back to (scheme and host), as on the consent page. */
  redirectHosts: string[];
  scopes: Array<{ name: string; description: string }>;
  connectedAt: number;
  lastUsedAt: number;
  /** Until when its refresh token keeps it connected without the user (renewed on each use); null: none. */
  refreshableUntil: number | null;
  revokeCsrfToken: string;
}

export interface AccountView {
  branding: Branding;
  username: string;
  apps: ConnectedApp[];
  /** What was just done, for the status line at the top. */
  notice?: string;
  signOut: SignOutForm;
  signOutEverywhere: { csrfToken: string };
  /** Local accounts only: the change-password form, with the error of the last attempt. */
  password?: { csrfToken: string; error?: string };
  minPasswordLength: number;
  accessTokenMinutes: number;
}

function trustLine(trust: ClientTrust): SafeHtml {
  switch (trust.kind) {
    case 'domain':
      return html`<span class="badge badge-ok">Verified</span> Identified by its website <code>${trust.host}</code>`;
    case 'operator':
      return html`<span class="badge badge-ok">Verified</span> Added by this server's administrator`;
    case 'self':
      return html`<span class="badge">Unverified</span> Registered itself; its name is its own claim`;
    case 'unknown':
      return html`<span class="badge">Unknown</span> This application is no longer registered`;
  }
}

function appCard(app: ConnectedApp, accessTokenMinutes: number): SafeHtml {
  const name = displayText(app.name, 60) || 'Unnamed application';
  const headingId = `app-${app.grantId}`;
  return html`<li class="app">
<h3 id="${headingId}"><bdi>${name}</bdi></h3>
<p class="trust small">${trustLine(app.trust)}</p>
<dl class="facts">
<dt>Sends you back to</dt><dd>${app.redirectHosts.length ? app.redirectHosts.map((h, i) => html`${i ? ', ' : ''}<code>${h}</code>`) : 'Nowhere (no browser sign-in)'}</dd>
<dt>Can</dt><dd>${app.scopes.length ? html`<ul class="plain">${app.scopes.map((s) => html`<li>${s.description}</li>`)}</ul>` : 'Use the server with basic access only'}</dd>
<dt>Connected</dt><dd><time datetime="${isoTime(app.connectedAt)}">${formatTime(app.connectedAt)}</time></dd>
<dt>Last used</dt><dd><time datetime="${isoTime(app.lastUsedAt)}">${formatTime(app.lastUsedAt)}</time></dd>
<dt>Stays connected</dt><dd>${app.refreshableUntil !== null
    ? html`Yes, without asking you: it renews its access itself (until <time datetime="${isoTime(app.refreshableUntil)}">${formatTime(app.refreshableUntil)}</time> if unused)`
    : html`No: its access ends within ${accessTokenMinutes} minutes of its last sign-in`}</dd>
</dl>
<form method="post" action="/account/revoke">
${hiddenFields(app.revokeCsrfToken, { grant: app.grantId })}<button type="submit" class="btn btn-secondary btn-danger" aria-describedby="${headingId}">Revoke access</button>
</form>
</li>`;
}

export function renderAccountPage(v: AccountView): string {
  const pw = v.password;
  const pwInvalid = pw?.error ? html` aria-invalid="true" aria-describedby="password-error"` : '';
  const body = html`<h1>Your account</h1>
<p class="lead">Signed in as <strong>${v.username}</strong></p>
${v.notice ? html`<div class="notice notice-ok" role="status"><p>${v.notice}</p></div>` : ''}
<h2 id="apps-heading">Connected applications</h2>
${v.apps.length
    ? html`<p class="small">Revoking ends an application's access at once: its tokens stop working, and it must ask you again to reconnect.</p>
<ul class="apps" aria-labelledby="apps-heading">${v.apps.map((a) => appCard(a, v.accessTokenMinutes))}</ul>`
    : html`<p>No application has access to your account.</p>`}
<h2>Sign out</h2>
<p class="small">Signing out ends your sign-in in this browser. Connected applications keep their access until you revoke it above.</p>
${signOutForm(v.signOut, 'button')}
<form method="post" action="/account/sign-out-everywhere" class="spaced">
${hiddenFields(v.signOutEverywhere.csrfToken, {})}<button type="submit" class="btn btn-secondary">Sign out everywhere</button>
</form>
<p class="small fineprint">Sign out everywhere ends your sign-in in every browser, this one included.</p>
${pw
    ? html`<h2>Change password</h2>
${pw.error ? html`<div class="notice notice-error" role="alert" id="password-error"><p>${pw.error}</p></div>` : ''}
<form method="post" action="/account/password">
${hiddenFields(pw.csrfToken, {})}<!-- For password managers: the account the new password belongs to. -->
<input type="text" name="username" autocomplete="username" value="${v.username}" aria-label="Username" hidden>
<div class="field">
<label for="current-password">Current password</label>
<input id="current-password" name="current_password" type="password" autocomplete="current-password" required${pwInvalid}>
</div>
<div class="field">
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" minlength="${String(v.minPasswordLength)}" required aria-describedby="new-password-hint">
<p class="small hint" id="new-password-hint">At least ${String(v.minPasswordLength)} characters.</p>
</div>
<div class="field">
<label for="confirm-password">New password, again</label>
<input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password" required>
</div>
<button type="submit" class="btn btn-primary">Change password</button>
</form>
<p class="small fineprint">Changing your password signs you out in every other browser.</p>`
    : ''}`;
  return renderLayout({ branding: v.branding, title: 'Your account', body, wide: true });
}
