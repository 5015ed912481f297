import type { Context, Hono } from 'hono';
import { branding, errorPage, htmlResponse, pageHandler } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { readForm } from '../authorization/form-body.ts';
import type { AppContext } from '../context.ts';
import { sessionCsrfToken, verifySessionCsrf } from '../identity/csrf.ts';
import { currentLoginSession, type SignedIn } from '../identity/login-sessions.ts';
import { renderAdminConfirmPage, renderAdminPage, type AdminSection } from '../ui/admin-page.ts';
import { endUserSessions, removeClient, removeUser, revokeGrant, setAdmin, type AdminActor, type AdminDeps } from './actions.ts';
import { mountAdminSignIn } from './sign-in.ts';

/** At most this many grants on one page (the oldest first); the CLI lists all. */
const GRANTS_PER_PAGE = 500;

/** What the page says after an action: a fixed set, chosen by the redirect's `done` parameter. */
const NOTICES: Record<string, { text: string; error?: boolean }> = {
  grant_revoked: { text: 'The grant was revoked.' },
  sessions_ended: { text: 'The user was signed out everywhere.' },
  user_removed: { text: 'The user was removed, with everything they authorized.' },
  admin_granted: { text: 'The user is now an administrator.' },
  admin_removed: { text: 'The user is no longer an administrator.' },
  client_removed: { text: 'The client was removed, with everything issued to it.' },
  gone: { text: 'Nothing changed: it no longer exists (someone else may have acted on it).', error: true },
  self: { text: 'Nothing changed: you cannot remove yourself or your own administrator role here.', error: true },
};

type Admin = SignedIn;
type Handler = (ctx: AppContext, admin: Admin, c: Context) => Promise<Response>;

/**
 * `/admin`: users, clients and grants for administrators (`users.isAdmin`; the first account is one).
 * Signed-out browsers go to the sign-in page; signed-in non-administrators get 403. Every action is a
 * CSRF-protected POST that goes through the shared admin actions (audit events included), then a 303
 * back to its list.
 */
export function mountAdmin(app: Hono, ctx: AppContext): void {
  mountAdminSignIn(app, ctx);
  const page = (handler: Handler) =>
    pageHandler(ctx, async (c: Context) => {
      const signedIn = await currentLoginSession(ctx, c.req.raw);
      if (!signedIn) return seeOther(`${ctx.config.issuer}/admin/sign-in`);
      if (!signedIn.user.isAdmin) return forbidden(ctx, signedIn);
      return handler(ctx, signedIn, c);
    });
  app.get('/admin', page(async () => seeOther(`${ctx.config.issuer}/admin/users`)));
  app.get('/admin/users', page(showUsers));
  app.get('/admin/clients', page(showClients));
  app.get('/admin/grants', page(showGrants));
  app.get('/admin/users/remove', page(confirmUserRemoval));
  app.get('/admin/clients/remove', page(confirmClientRemoval));
  app.post('/admin/:area/:action', page(act));
}

const deps = (ctx: AppContext): AdminDeps => ({ storage: ctx.storage, grants: ctx.grants, clock: ctx.clock, logger: ctx.logger });
const actor = (admin: Admin): AdminActor => ({ via: 'web', user: admin.user });
const csrfFor = (admin: Admin) => (action: string, target: string) => sessionCsrfToken(admin.session, 'admin', `${action}:${target}`);

function frame(ctx: AppContext, admin: Admin, c: Context) {
  const done = c.req.query('done');
  const notice = done !== undefined ? NOTICES[done] : undefined;
  return { branding: branding(ctx.config), username: admin.user.username, csrf: csrfFor(admin), ...(notice ? { notice } : {}) };
}

function forbidden(ctx: AppContext, signedIn: SignedIn): Response {
  return errorPage(
    ctx,
    {
      title: 'Administrators only',
      message: `You are signed in as ${signedIn.user.username}, who is not an administrator of this server. Sign out (at /logout) and sign in as an administrator.`,
    },
    403,
  );
}

async function showUsers(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const now = ctx.clock.now();
  const [users, sessions, grants] = await Promise.all([ctx.storage.users.list(), ctx.storage.loginSessions.list({ now }), ctx.storage.grants.listLive({ now })]);
  const count = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());
  const sessionCount = count(sessions.map((s) => s.userId));
  const grantCount = count(grants.map((g) => g.userId));
  const rows = users.map((u) => ({
    id: u.id,
    username: u.username,
    isAdmin: u.isAdmin,
    createdAt: u.createdAt,
    sessions: sessionCount.get(u.id) ?? 0,
    grants: grantCount.get(u.id) ?? 0,
    isSelf: u.id === admin.user.id,
  }));
  return htmlResponse(ctx, renderAdminPage({ ...frame(ctx, admin, c), section: 'users', users: rows }));
}

async function showClients(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const [clients, live] = await Promise.all([ctx.storage.clients.list(), ctx.storage.grants.liveCountByClient(ctx.clock.now())]);
  const rows = clients.map((cl) => ({
    clientId: cl.clientId,
    clientName: cl.clientName,
    type: cl.tokenEndpointAuthMethod === 'none' ? ('public' as const) : ('confidential' as const),
    source: cl.source,
    createdAt: cl.createdAt,
    lastGrantAt: cl.lastGrantAt ?? null,
    grants: live.get(cl.clientId) ?? 0,
  }));
  return htmlResponse(ctx, renderAdminPage({ ...frame(ctx, admin, c), section: 'clients', clients: rows }));
}

async function showGrants(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const userId = c.req.query('user');
  const clientId = c.req.query('client');
  const [grants, users, clients] = await Promise.all([
    ctx.storage.grants.listLive({ now: ctx.clock.now(), limit: GRANTS_PER_PAGE + 1, ...(userId ? { userId } : {}), ...(clientId ? { clientId } : {}) }),
    ctx.storage.users.list(),
    ctx.storage.clients.list(),
  ]);
  const usernames = new Map(users.map((u) => [u.id, u.username]));
  const clientNames = new Map(clients.map((cl) => [cl.clientId, cl.clientName]));
  const rows = grants.slice(0, GRANTS_PER_PAGE).map((g) => ({
    id: g.id,
    userId: g.userId,
    username: usernames.get(g.userId) ?? g.userId,
    clientId: g.clientId,
    clientName: clientNames.get(g.clientId) ?? g.clientId,
    scopes: g.scopes,
    createdAt: g.createdAt,
    expiresAt: g.expiresAt,
  }));
  const filter = userId ? (usernames.get(userId) ?? userId) : clientId ? (clientNames.get(clientId) ?? clientId) : undefined;
  return htmlResponse(
    ctx,
    renderAdminPage({ ...frame(ctx, admin, c), section: 'grants', grants: rows, truncated: grants.length > GRANTS_PER_PAGE, ...(filter !== undefined ? { filter } : {}) }),
  );
}

async function confirmUserRemoval(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const user = await ctx.storage.users.byId(c.req.query('user') ?? '');
  if (!user) return backTo(ctx, 'users', 'gone');
  if (user.id === admin.user.id) return backTo(ctx, 'users', 'self');
  const grants = (await ctx.storage.grants.listLive({ now: ctx.clock.now(), userId: user.id })).length;
  return htmlResponse(
    ctx,
    renderAdminConfirmPage({
      ...frame(ctx, admin, c),
      section: 'users',
      title: `Remove ${user.username}?`,
      consequences: [
        `The account ${user.username}${user.isAdmin ? ' (an administrator)' : ''} is deleted with its sessions, consents and tasks.`,
        `${grants === 1 ? 'Its one connected app is revoked: its tokens stop' : `Its ${grants} connected apps are revoked: their tokens stop`} working. This cannot be undone.`,
      ],
      action: 'users/remove',
      target: user.id,
      fields: { user_id: user.id },
      confirmLabel: `Remove ${user.username}`,
    }),
  );
}

async function confirmClientRemoval(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const client = await ctx.storage.clients.get(c.req.query('client') ?? '');
  if (!client) return backTo(ctx, 'clients', 'gone');
  const grants = (await ctx.storage.grants.listLive({ now: ctx.clock.now(), clientId: client.clientId })).length;
  return htmlResponse(
    ctx,
    renderAdminConfirmPage({
      ...frame(ctx, admin, c),
      section: 'clients',
      title: `Remove the client ${client.clientName}?`,
      consequences: [
        `The client ${client.clientId} is deleted, and ${grants === 1 ? 'its one live grant is' : `its ${grants} live grants are`} revoked: every token issued to it stops working.`,
        client.source === 'dcr' ? 'An MCP client that registered itself can register again when it next connects.' : 'It was added by an operator: add it again with `clients add` if it is still needed.',
      ],
      action: 'clients/remove',
      target: client.clientId,
      fields: { client_id: client.clientId },
      confirmLabel: 'Remove the client',
    }),
  );
}

const backTo = (ctx: AppContext, section: AdminSection, done: keyof typeof NOTICES): Response => seeOther(`${ctx.config.issuer}/admin/${section}?done=${done}`);

/** POST /admin/<area>/<action>: checks the form's token for that action and target, then acts. */
async function act(ctx: AppContext, admin: Admin, c: Context): Promise<Response> {
  const action = `${c.req.param('area')}/${c.req.param('action')}`;
  const form = await readForm(c.req.raw);
  const target = form.get('user_id') ?? form.get('grant_id') ?? form.get('client_id') ?? '';
  if (!verifySessionCsrf(admin.session, 'admin', `${action}:${target}`, form.get('csrf_token') ?? undefined)) {
    return errorPage(ctx, { title: 'This form has expired', message: 'The page you submitted is out of date, so nothing was changed. Reload it and try again.' }, 403);
  }
  const d = deps(ctx);
  const who = actor(admin);
  switch (action) {
    case 'grants/revoke':
      return backTo(ctx, 'grants', (await revokeGrant(d, who, target)) ? 'grant_revoked' : 'gone');
    case 'clients/remove':
      return backTo(ctx, 'clients', (await removeClient(d, who, target)) ? 'client_removed' : 'gone');
  }
  const user = await ctx.storage.users.byId(target);
  if (!user) return backTo(ctx, 'users', 'gone');
  switch (action) {
    case 'users/end-sessions':
      await endUserSessions(d, who, user);
      // Signing oneself out everywhere ends this session too: the next page asks to sign in again.
      return backTo(ctx, 'users', 'sessions_ended');
    case 'users/admin': {
      if (user.id === admin.user.id) return backTo(ctx, 'users', 'self');
      const makeAdmin = form.get('admin') === 'yes';
      await setAdmin(d, who, user, makeAdmin);
      return backTo(ctx, 'users', makeAdmin ? 'admin_granted' : 'admin_removed');
    }
    case 'users/remove':
      if (user.id === admin.user.id) return backTo(ctx, 'users', 'self');
      return backTo(ctx, 'users', (await removeUser(d, who, user)) ? 'user_removed' : 'gone');
  }
  return errorPage(ctx, { title: 'No such action', message: 'Nothing was changed.' }, 404);
}
