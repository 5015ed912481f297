import type { Branding } from './branding.ts';
import { displayText, html } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';
import { signOutForm, type SignOutForm } from './sign-out.ts';

export type LoginView = {
  branding: Branding;
  action: string;
  csrfToken: string;
  hidden: Record<string, string>;
  username?: string;
  error?: string;
  /** The application the sign-in continues to. */
  clientName?: string;
  /** Why to sign in when no application is waiting (e.g. the account page). */
  purpose?: string;
  /** Users sign in at this upstream provider: the form is one button that goes there. */
  signInWith?: string;
  /**
   * The account this browser is signed in with already (prompt=login or prompt=select_account): named,
   * with a sign-out form, and for select_account a form that continues as that account.
   */
  current?: { username: string; signOut: SignOutForm; continueAs?: { csrfToken: string; hidden: Record<string, string> } };
};

export function renderLoginPage(v: LoginView): string {
  const err = v.error !== undefined && v.error !== '';
  // Point the fields at the error so screen readers announce it on focus.
  const invalid = err ? html` aria-invalid="true" aria-describedby="login-error"` : '';
  const lead = v.clientName
    ? html`<p class="lead">Sign in to continue to <strong><bdi>${displayText(v.clientName)}</bdi></strong></p>`
    : html`<p class="lead">${v.purpose ?? `Sign in to ${v.branding.serverName}`}</p>`;
  const current = v.current;
  const body = html`<h1>Sign in</h1>
${lead}
${current?.continueAs
    ? html`<div class="destination current-account">
<p class="small">You are signed in as</p>
<p class="host"><strong>${current.username}</strong></p>
</div>
<form method="post" action="${v.action}">
${hiddenFields(current.continueAs.csrfToken, { ...current.continueAs.hidden, account: 'continue' })}<button type="submit" class="btn btn-primary">Continue as ${current.username}</button>
</form>
<h2>Or use another account</h2>`
    : current
      ? html`<p>You are signed in as <strong>${current.username}</strong>. The application asks you to enter your password again.</p>`
      : ''}
${err ? html`<div class="notice notice-error" role="alert" id="login-error"><p>${v.error}</p></div>` : ''}
${v.signInWith
    ? html`<form method="post" action="${v.action}">
${hiddenFields(v.csrfToken, v.hidden)}<button type="submit" class="btn btn-primary">Continue with ${displayText(v.signInWith, 60)}</button>
</form>`
    : html`<form method="post" action="${v.action}">
${hiddenFields(v.csrfToken, v.hidden)}<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${v.username ?? (current && !current.continueAs ? current.username : '')}"${invalid}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}>
</div>
<button type="submit" class="btn ${current?.continueAs ? 'btn-secondary' : 'btn-primary'}">Sign in</button>
</form>`}
${current ? signOutForm(current.signOut, 'notYou') : ''}`;
  return renderLayout({ branding: v.branding, title: 'Sign in', body });
}
