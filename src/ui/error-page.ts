import type { Branding } from './branding.ts';
import { html } from './html.ts';
import { renderLayout } from './layout.ts';

export type ErrorView = { branding: Branding; title: string; message: string; detail?: string };

/** For errors that must not be sent back to a client (unknown client_id, unregistered redirect_uri, …). */
export function renderErrorPage(v: ErrorView): string {
  const body = html`<h1>${v.title}</h1>
<p>${v.message}</p>
<p class="small">You can close this window and try again from the application. If the problem continues, contact the application's developer or this server's administrator.</p>
${v.detail ? html`<details><summary>Technical details</summary><pre>${v.detail}</pre></details>` : ''}`;
  return renderLayout({ branding: v.branding, title: v.title, body });
}
