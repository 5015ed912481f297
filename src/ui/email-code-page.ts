import type { Branding } from './branding.ts';
import { html } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';

export type EmailCodeView = {
  branding: Branding;
  /** Where the form posts. */
  action: string;
  csrfToken: string;
  hidden: Record<string, string>;
  /** `email`: ask for the address; `code`: ask for the code sent to `email`. */
  step: 'email' | 'code';
  email?: string;
  error?: string;
};

/** Sign-in by a one-time code sent by e-mail: first the address, then the code. */
export function renderEmailCodePage(v: EmailCodeView): string {
  const err = v.error !== undefined && v.error !== '';
  const invalid = err ? html` aria-invalid="true" aria-describedby="signin-error"` : '';
  const field =
    v.step === 'email'
      ? html`<div class="field">
<label for="email">Email address</label>
<input id="email" name="email" type="text" inputmode="email" autocomplete="email" autocapitalize="none" spellcheck="false" required value="${v.email ?? ''}"${invalid}>
</div>`
      : html`<div class="field">
<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required${invalid}>
</div>`;
  const body = html`<h1>Sign in</h1>
${v.step === 'email'
    ? html`<p class="lead">We will email you a code to sign in to ${v.branding.serverName}.</p>`
    : html`<p class="lead">Enter the 6-digit code we sent to <strong>${v.email ?? ''}</strong>.</p>`}
${err ? html`<div class="notice notice-error" role="alert" id="signin-error"><p>${v.error}</p></div>` : ''}
<form method="post" action="${v.action}">
${hiddenFields(v.csrfToken, v.hidden)}${field}
<button type="submit" class="btn btn-primary">${v.step === 'email' ? 'Email me a code' : 'Sign in'}</button>
</form>`;
  return renderLayout({ branding: v.branding, title: 'Sign in', body });
}
