import type { Branding } from './branding.ts';
import { displayText, html, type SafeHtml } from './html.ts';
import { hiddenFields, renderLayout } from './layout.ts';

/**
 * The /admin pages: users, clients and grants as tables with their actions. Every action is a POST
 * form carrying the session's CSRF token for exactly that action and target (`csrf(action, target)`),
 * so no link or cross-site form can trigger one. Removals go through a confirmation page first.
 */
export type AdminSection = 'users' | 'clients' | 'grants';

export interface AdminUserRow {
  id: string;
  username: string;
  isAdmin: boolean;
  createdAt: number;
  sessions: number;
  grants: number;
  /** The signed-in administrator's own row: no removal or demotion (that would lock them out). */
  isSelf: boolean;
}

export interface AdminClientRow {
  clientId: string;
  clientName: string;
  type: 'public' | 'confidential';
  source: string;
  createdAt: number;
  lastGrantAt: number | null;
  grants: number;
}

export interface AdminGrantRow {
  id: string;
  userId: string;
  username: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
}

interface AdminFrame {
  branding: Branding;
  /** The signed-in administrator. */
  username: string;
  /** The CSRF token of one action on one target. */
  csrf: (action: string, target: string) => string;
  /** A message about the last action (from a fixed set; never request text). */
  notice?: { text: string; error?: boolean };
}

export type AdminView = AdminFrame &
  (
    | { section: 'users'; users: AdminUserRow[] }
    | { section: 'clients'; clients: AdminClientRow[] }
    | { section: 'grants'; grants: AdminGrantRow[]; filter?: string; truncated: boolean }
  );

const TITLES: Record<AdminSection, string> = { users: 'Users', clients: 'Clients', grants: 'Grants' };
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function actionForm(v: AdminFrame, action: string, target: string, fields: Record<string, string>, label: SafeHtml, danger = false): SafeHtml {
  return html`<form method="post" action="/admin/${action}">
${hiddenFields(v.csrf(action, target), fields)}<button type="submit" class="btn btn-small ${danger ? 'btn-danger' : 'btn-secondary'}">${label}</button>
</form>`;
}

function frame(v: AdminFrame, section: AdminSection, content: SafeHtml): string {
  const tab = (s: AdminSection) => html`<li><a href="/admin/${s}"${s === section ? html` aria-current="page"` : ''}>${TITLES[s]}</a></li>`;
  const body = html`<h1>Administration</h1>
<p class="small">Signed in as <strong>${v.username}</strong> · <a href="/logout">Sign out</a></p>
<nav aria-label="Administration"><ul class="tabs">${tab('users')}${tab('clients')}${tab('grants')}</ul></nav>
${v.notice ? html`<div class="notice ${v.notice.error ? 'notice-error' : 'notice-ok'}" role="status"><p>${v.notice.text}</p></div>` : ''}
<h2>${TITLES[section]}</h2>
${content}`;
  return renderLayout({ branding: v.branding, title: `${TITLES[section]} · Administration`, body, full: true });
}

function usersTable(v: AdminFrame, users: AdminUserRow[]): SafeHtml {
  const rows = users.map(
    (u) => html`<tr>
<th scope="row">${u.username}</th>
<td>${u.isAdmin ? 'administrator' : 'user'}</td>
<td class="nowrap">${day(u.createdAt)}</td>
<td>${u.sessions}</td>
<td>${u.grants > 0 ? html`<a href="/admin/grants?user=${encodeURIComponent(u.id)}">${plural(u.grants, 'app')}<span class="sr-only"> of ${u.username}</span></a>` : '0'}</td>
<td><div class="row-actions">
${u.sessions > 0 ? actionForm(v, 'users/end-sessions', u.id, { user_id: u.id }, html`Sign out everywhere<span class="sr-only"> (${u.username})</span>`) : ''}
${u.isSelf ? '' : actionForm(v, 'users/admin', u.id, { user_id: u.id, admin: u.isAdmin ? 'no' : 'yes' }, u.isAdmin ? html`Remove admin<span class="sr-only"> (${u.username})</span>` : html`Make admin<span class="sr-only"> (${u.username})</span>`)}
${u.isSelf ? '' : html`<a class="btn btn-small btn-danger" href="/admin/users/remove?user=${encodeURIComponent(u.id)}">Remove…<span class="sr-only"> ${u.username}</span></a>`}
</div></td>
</tr>`,
  );
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Sessions</th><th scope="col">Connected apps</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

function clientsTable(v: AdminFrame, clients: AdminClientRow[]): SafeHtml {
  if (clients.length === 0) return html`<p>No clients yet. MCP clients register themselves when they first connect.</p>`;
  const rows = clients.map(
    (c) => html`<tr>
<th scope="row"><bdi>${displayText(c.clientName)}</bdi><br><code>${c.clientId}</code></th>
<td>${c.type}</td>
<td>${c.source === 'cli' ? 'operator' : c.source === 'dcr' ? 'self-registered' : c.source}</td>
<td class="nowrap">${day(c.createdAt)}</td>
<td class="nowrap">${c.lastGrantAt === null ? 'never' : day(c.lastGrantAt)}</td>
<td>${c.grants > 0 ? html`<a href="/admin/grants?client=${encodeURIComponent(c.clientId)}">${c.grants}<span class="sr-only"> live grants of ${displayText(c.clientName)}</span></a>` : '0'}</td>
<td><a class="btn btn-small btn-danger" href="/admin/clients/remove?client=${encodeURIComponent(c.clientId)}">Remove…<span class="sr-only"> ${displayText(c.clientName)}</span></a></td>
</tr>`,
  );
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Client</th><th scope="col">Type</th><th scope="col">Added by</th><th scope="col">Created</th><th scope="col">Last use</th><th scope="col">Live grants</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

function grantsTable(v: AdminFrame, grants: AdminGrantRow[], filter: string | undefined, truncated: boolean): SafeHtml {
  const heading = filter ? html`<p>Live grants of <strong><bdi>${displayText(filter)}</bdi></strong> · <a href="/admin/grants">Show all</a></p>` : '';
  if (grants.length === 0) return html`${heading}<p>No live grants.</p>`;
  const rows = grants.map(
    (g) => html`<tr>
<th scope="row"><code>${g.id}</code></th>
<td>${g.username}</td>
<td><bdi>${displayText(g.clientName)}</bdi></td>
<td>${g.scopes.join(' ') || '–'}</td>
<td class="nowrap">${day(g.createdAt)}</td>
<td class="nowrap">${day(g.expiresAt)}</td>
<td>${actionForm(v, 'grants/revoke', g.id, { grant_id: g.id }, html`Revoke<span class="sr-only"> ${displayText(g.clientName)} for ${g.username}</span>`, true)}</td>
</tr>`,
  );
  return html`${heading}<div class="table-wrap"><table>
<thead><tr><th scope="col">Grant</th><th scope="col">User</th><th scope="col">Client</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
${truncated ? html`<p class="small">Only the oldest ${grants.length} are shown: narrow the list from a user or a client, or use <code>grants list</code> on the server.</p>` : ''}
<p class="small">Revoking ends the grant's refresh token at once and its access tokens within seconds; the app must ask the user again.</p>`;
}

export function renderAdminPage(v: AdminView): string {
  if (v.section === 'users') return frame(v, 'users', usersTable(v, v.users));
  if (v.section === 'clients') return frame(v, 'clients', clientsTable(v, v.clients));
  return frame(v, 'grants', grantsTable(v, v.grants, v.filter, v.truncated));
}

export interface AdminConfirmView extends AdminFrame {
  section: AdminSection;
  title: string;
  /** What will happen, in sentences. */
  consequences: string[];
  action: string;
  target: string;
  fields: Record<string, string>;
  confirmLabel: string;
}

/** "Are you sure?" before a removal: the POST form, and a way back that changes nothing. */
export function renderAdminConfirmPage(v: AdminConfirmView): string {
  const content = html`<p class="lead"><strong>${v.title}</strong></p>
${v.consequences.map((c) => html`<p>${c}</p>`)}
<form method="post" action="/admin/${v.action}">
${hiddenFields(v.csrf(v.action, v.target), v.fields)}<div class="actions">
<a class="btn btn-secondary" href="/admin/${v.section}">Cancel</a>
<button type="submit" class="btn btn-danger">${v.confirmLabel}</button>
</div>
</form>`;
  return frame(v, v.section, content);
}
