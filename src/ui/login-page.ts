import type { Branding } from './branding.ts';
import { displayText, html } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';

export type LoginView = {
  branding: Branding;
  action: string;
  csrfToken: string;
  hidden: Record<string, string>;
  username?: string;
  error?: string;
  clientName?: string;
};

export function renderLoginPage(v: LoginView): string {
  const err = v.error !== undefined && v.error !== '';
  // Point the fields at the error so screen readers announce it on focus.
  const invalid = err ? html` aria-invalid="true" aria-describedby="login-error"` : '';
  const body = html`<h1>Sign in</h1>
${v.clientName
    ? html`<p class="lead">Sign in to continue to <strong><bdi>${displayText(v.clientName)}</bdi></strong></p>`
    : html`<p class="lead">Sign in to ${v.branding.serverName}</p>`}
${err ? html`<div class="notice notice-error" role="alert" id="login-error"><p>${v.error}</p></div>` : ''}
<form method="post" action="${v.action}">
${hiddenFields(v.csrfToken, v.hidden)}<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${v.username ?? ''}"${invalid}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}>
</div>
<button type="submit" class="btn btn-primary">Sign in</button>
</form>`;
  return renderLayout({ branding: v.branding, title: 'Sign in', body });
}
