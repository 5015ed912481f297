import { html, type SafeHtml } from './html.ts';
import { hiddenFields } from './layout.ts';

/** A sign-out form: the session's logout CSRF token, and what to carry (a pending request's handle, to sign in again for it). */
export type SignOutForm = { csrfToken: string; hidden: Record<string, string> };

/**
 * Signing out changes state, so it is a POST form with a CSRF token, never a link. `notYou` is the
 * small "Not you? Sign out" line under a page that names the signed-in user; `button` a full button.
 */
export function signOutForm(form: SignOutForm, style: 'notYou' | 'button'): SafeHtml {
  const fields = hiddenFields(form.csrfToken, form.hidden);
  return style === 'notYou'
    ? html`<form method="post" action="/logout" class="inline-form">
${fields}<p class="small">Not you? <button type="submit" class="link-button">Sign out</button></p>
</form>`
    : html`<form method="post" action="/logout">
${fields}<button type="submit" class="btn btn-secondary">Sign out</button>
</form>`;
}
