import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  escapeHtml, html, raw, validAccent, onAccent, contrastRatio, pageSecurityHeaders, STYLESHEET,
  renderLoginPage, renderConsentPage, renderErrorPage, type ConsentView, type LoginView, type Branding,
} from '../../src/ui/index.ts';

const XSS = `<script>alert(1)</script>"><img src=x onerror=alert(1)>`;
const branding: Branding = { serverName: 'Acme MCP' };

const login = (o: Partial<LoginView> = {}) =>
  renderLoginPage({ branding, action: '/login', csrfToken: 'csrf123', hidden: { request_id: 'r1' }, ...o });

const consentView = (o: Partial<ConsentView['client']> = {}, extra: Partial<ConsentView> = {}): ConsentView => ({
  branding, action: '/consent', csrfToken: 'csrf456', hidden: { request_id: 'r2' },
  user: { username: 'alice' },
  client: { name: 'Notes App', clientId: 'c_123', redirectHost: 'notes.example.com', allRedirectsLoopback: false, ...o },
  scopes: [{ name: 'notes:read', description: 'Read your notes' }, { name: 'notes:write', description: 'Create and edit notes' }],
  resource: 'https://mcp.acme.test/mcp',
  ...extra,
});
const consent = (o: Partial<ConsentView['client']> = {}, extra: Partial<ConsentView> = {}) => renderConsentPage(consentView(o, extra));
const errorPage = () => renderErrorPage({ branding, title: 'Unknown application', message: 'The client_id is not registered.', detail: 'client_id=abc' });
const allPages = () => [login({ error: 'Wrong password', clientName: 'X' }), consent({ allRedirectsLoopback: true }), errorPage()];

const styles = (page: string) => [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
const directive = (csp: string, name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.split(/\s+/)[0] === name);

test('html escapes interpolations by default and raw() opts out', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(html`<p>${'<b>'}${raw('<i>')}${['<', raw('>')]}${undefined}${false}</p>`.value, '<p>&lt;b&gt;<i>&lt;></p>');
  assert.equal(html`${html`<b>${'&'}</b>`}`.value, '<b>&amp;</b>');
});

test('SEC-09 client-supplied names are HTML-escaped', () => {
  for (const page of [consent({ name: XSS }), login({ clientName: XSS })]) {
    assert.ok(!page.includes('<script'), 'no script tag');
    assert.ok(!page.includes('<img src=x'), 'no injected img');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img'));
  }
  const titled = consent({ name: '</title><script>x</script>' });
  assert.match(titled, /<title>Allow &lt;\/title&gt;&lt;script&gt;x&lt;\/script&gt;\? · Acme MCP<\/title>/);
});

test('SEC-09 every other untrusted value is escaped, including attribute values', () => {
  const page = consent({ redirectHost: XSS, clientId: XSS }, {
    user: { username: XSS }, resource: XSS, csrfToken: '"><b>', hidden: { ['a"b']: '"><b>' },
    scopes: [{ name: XSS, description: XSS }],
  });
  assert.ok(!/<script|<img src=x|<b>/.test(page));
  const lp = login({ username: '"autofocus onfocus="alert(1)', error: XSS });
  assert.ok(!lp.includes('onfocus="alert'));
  assert.ok(lp.includes('value="&quot;autofocus onfocus=&quot;alert(1)"'));
  const ep = renderErrorPage({ branding: { serverName: XSS }, title: XSS, message: XSS, detail: XSS });
  assert.ok(!/<script|<img src=x/.test(ep));
});

test('SEC-09 client URLs must be https (no javascript: links or logos)', () => {
  const bad = consent({ logoUri: 'javascript:alert(1)', clientUri: 'javascript:alert(1)' });
  assert.ok(!bad.includes('javascript:'));
  const good = consent({ logoUri: 'https://cdn.example.com/logo.png', clientUri: 'https://notes.example.com/about' });
  assert.ok(good.includes('<img src="https://cdn.example.com/logo.png"'));
  assert.match(good, /<a href="https:\/\/notes.example.com\/about" rel="noopener noreferrer">notes.example.com<\/a>/);
  assert.ok(!renderLoginPage({ branding: { serverName: 'S', logoUrl: 'javascript:1' }, action: '/', csrfToken: 't', hidden: {} }).includes('<img'));
});

test('SEC-09 bidi overrides and control characters are stripped from client names, long names are capped', () => {
  const page = consent({ name: 'Good\u202Emoc.live\u0000 App' });
  assert.ok(!page.includes('\u202E') && !page.includes('\u0000'));
  assert.ok(page.includes('Goodmoc.live App'));
  const long = consent({ name: 'A'.repeat(500) });
  assert.ok(!long.includes('A'.repeat(61)));
  assert.ok(long.includes('A'.repeat(59) + '…'));
});

test('AS-17 consent shows the redirect host', () => {
  const page = consent({ redirectHost: 'notes.example.com' });
  assert.match(page, /<p class="host"><code id="redirect-host">notes\.example\.com<\/code><\/p>/);
  assert.match(page, /You will be sent back to/);
});

test('AS-15 loopback-only clients get a warning', () => {
  const warned = consent({ allRedirectsLoopback: true, redirectHost: '127.0.0.1:33418' });
  assert.match(warned, /class="notice notice-warn"/);
  assert.match(warned, /runs on your computer/);
  assert.match(warned, /only continue if you started this sign-in/i);
  assert.ok(!consent({ allRedirectsLoopback: false }).includes('class="notice notice-warn"'));
});

test('BP-03 SEC-26 consent names the client (marked unverified), scopes, resource, user and CSRF token', () => {
  const page = consent();
  assert.match(page, /<bdi class="client-name">Notes App<\/bdi>/);
  assert.match(page, /<span class="badge">Unverified<\/span> Name supplied by the application/);
  assert.match(page, /<li><span class="desc">Read your notes<\/span><code>notes:read<\/code><\/li>/);
  assert.match(page, /<li><span class="desc">Create and edit notes<\/span><code>notes:write<\/code><\/li>/);
  assert.ok(page.includes('<code>https://mcp.acme.test/mcp</code>'));
  assert.ok(page.includes('<strong>alice</strong>'));
  assert.ok(page.includes('<input type="hidden" name="csrf_token" value="csrf456">'));
  assert.ok(page.includes('<input type="hidden" name="request_id" value="r2">'));
});

test('BP-03 consent has Allow and Deny buttons in one POST form', () => {
  const page = consent();
  const forms = [...page.matchAll(/<form method="post" action="\/consent">([\s\S]*?)<\/form>/g)];
  assert.equal(forms.length, 1);
  const form = forms[0]?.[1] ?? '';
  assert.match(form, /<button type="submit" name="decision" value="allow"[^>]*>Allow<\/button>/);
  assert.match(form, /<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
  assert.match(form, /name="csrf_token"/);
});

test('SEC-26 consent shows the CIMD client_id host', () => {
  const page = consent({ clientId: 'https://app.example.org/oauth/client.json' });
  assert.match(page, /<code>app\.example\.org<\/code> <span class="small">\(verified domain\)<\/span>/);
});

test('hidden fields cannot override the CSRF token', () => {
  const page = login({ hidden: { csrf_token: 'attacker', state: 's' } });
  assert.equal(page.match(/name="csrf_token"/g)?.length, 1);
  assert.ok(page.includes('name="csrf_token" value="csrf123"'));
});

test('login form: labelled fields with autocomplete, error alert, client line', () => {
  const page = login({ error: 'Wrong username or password', clientName: 'Notes App', username: 'bob' });
  assert.match(page, /<form method="post" action="\/login">/);
  assert.match(page, /<input id="username" name="username" type="text" autocomplete="username"[^>]* value="bob"/);
  assert.match(page, /<input id="password" name="password" type="password" autocomplete="current-password"/);
  assert.match(page, /<div class="notice notice-error" role="alert" id="login-error"><p>Wrong username or password<\/p><\/div>/);
  assert.match(page, /aria-describedby="login-error"/);
  assert.match(page, /Sign in to continue to <strong><bdi>Notes App<\/bdi><\/strong>/);
  assert.ok(page.includes('name="csrf_token" value="csrf123"') && page.includes('name="request_id" value="r1"'));
  assert.ok(!login().includes('role="alert"'), 'no alert region without an error');
  assert.ok(!login().includes('aria-invalid="true"'));
});

test('every visible input has a label', () => {
  for (const page of allPages()) {
    for (const m of page.matchAll(/<input\b[^>]*>/g)) {
      if (/type="hidden"/.test(m[0])) continue;
      const id = /\bid="([^"]+)"/.exec(m[0])?.[1];
      assert.ok(id, `input without id: ${m[0]}`);
      assert.ok(page.includes(`<label for="${id}">`), `no label for ${id}`);
    }
  }
});

test('pages are complete documents without JavaScript, external resources or inline style attributes', () => {
  for (const page of allPages()) {
    assert.match(page, /^<!doctype html>\n<html lang="en">/);
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page, /<title>[^<]+ · Acme MCP<\/title>/);
    assert.ok(!/<script/i.test(page), 'no script tag');
    assert.ok(!/\son[a-z]+=/i.test(page), 'no event handler attributes');
    assert.ok(!/<link\b|@import|url\(/i.test(page), 'no external stylesheets or fonts');
    assert.ok(!/\sstyle=/.test(page), 'no style attributes (CSP would block them)');
    assert.match(page, /<header class="site">[\s\S]*<main[\s\S]*<\/main>\n<footer>/);
  }
});

test('SEC-22 pages forbid framing', () => {
  const h = pageSecurityHeaders();
  assert.equal(h['X-Frame-Options'], 'DENY');
  assert.equal(directive(h['Content-Security-Policy'] ?? '', 'frame-ancestors'), "frame-ancestors 'none'");
});

test('SEC-23 CSP is strict, referrer off, no-store, nosniff', () => {
  const h = pageSecurityHeaders();
  const csp = h['Content-Security-Policy'] ?? '';
  assert.equal(directive(csp, 'default-src'), "default-src 'none'");
  assert.equal(directive(csp, 'base-uri'), "base-uri 'none'");
  assert.equal(directive(csp, 'img-src'), "img-src 'self' https: data:");
  assert.equal(directive(csp, 'script-src'), undefined, 'scripts fall back to none');
  assert.ok(!/unsafe-inline|\*/.test(csp));
  assert.equal(h['Referrer-Policy'], 'no-referrer');
  assert.equal(h['X-Content-Type-Options'], 'nosniff');
  assert.equal(h['Cache-Control'], 'no-store');
});

test('SEC-21 CSP omits form-action so the 303 to the client redirect URI is not blocked', () => {
  assert.equal(directive(pageSecurityHeaders()['Content-Security-Policy'] ?? '', 'form-action'), undefined);
});

test('CSP style hash matches the stylesheet actually embedded', () => {
  const csp = pageSecurityHeaders()['Content-Security-Policy'] ?? '';
  for (const page of allPages()) {
    const css = styles(page);
    assert.equal(css.length, 1);
    assert.equal(directive(csp, 'style-src'), `style-src ${sha(css[0] ?? '')}`);
  }
});

test('accent colour: validated hex only, and its stylesheet is allowed by the CSP built from the same branding', () => {
  assert.equal(validAccent('#ABC'), '#aabbcc');
  assert.equal(validAccent('#12ab9F'), '#12ab9f');
  for (const bad of ['red', '#12345', 'url(x)', '#fff;}body{display:none', '#ggg', '']) assert.equal(validAccent(bad), undefined);

  const b: Branding = { serverName: 'S', accentColor: '#0F7B3F' };
  const page = renderLoginPage({ branding: b, action: '/', csrfToken: 't', hidden: {} });
  const css = styles(page);
  assert.equal(css.length, 2);
  assert.equal(css[1], ':root{--accent:#0f7b3f;--on-accent:#ffffff}');
  const styleSrc = directive(pageSecurityHeaders(b)['Content-Security-Policy'] ?? '', 'style-src') ?? '';
  for (const c of css) assert.ok(styleSrc.includes(sha(c)), 'each embedded stylesheet is hashed');

  const evil = renderLoginPage({ branding: { serverName: 'S', accentColor: 'red}body{display:none' }, action: '/', csrfToken: 't', hidden: {} });
  assert.equal(styles(evil).length, 1, 'invalid accent ignored');
});

test('button text on any accent meets AA contrast', () => {
  for (const accent of ['#2563eb', '#ffff00', '#0f7b3f', '#777777', '#000000', '#ffffff', '#ff6600']) {
    assert.ok(contrastRatio(accent, onAccent(accent)) >= 4.5, accent);
  }
});

test('error page shows title, message and optional technical detail', () => {
  const page = errorPage();
  assert.match(page, /<h1>Unknown application<\/h1>/);
  assert.match(page, /The client_id is not registered\./);
  assert.match(page, /<details><summary>Technical details<\/summary><pre>client_id=abc<\/pre><\/details>/);
  assert.ok(!renderErrorPage({ branding, title: 't', message: 'm' }).includes('<details>'));
});

test('both colour schemes meet WCAG AA contrast (text 4.5:1, borders and focus ring 3:1)', () => {
  const light = Object.fromEntries([...(/:root\{([^}]*)\}/.exec(STYLESHEET)?.[1] ?? '').matchAll(/--([\w-]+):(#[0-9a-f]{3,6})/g)].map((m) => [m[1], m[2]]));
  const darkBlock = /prefers-color-scheme:dark\)\{:root\{([^}]*)\}/.exec(STYLESHEET)?.[1] ?? '';
  const dark = { ...light, ...Object.fromEntries([...darkBlock.matchAll(/--([\w-]+):(#[0-9a-f]{3,6})/g)].map((m) => [m[1], m[2]])) };
  for (const [scheme, v] of [['light', light], ['dark', dark]] as const) {
    const c = (a: string, b: string) => contrastRatio(validAccent(v[a]) ?? '', validAccent(v[b]) ?? '');
    for (const fg of ['text', 'muted', 'link']) for (const bg of ['bg', 'card', 'subtle']) assert.ok(c(fg, bg) >= 4.5, `${scheme} ${fg} on ${bg}: ${c(fg, bg)}`);
    assert.ok(c('warn-text', 'warn-bg') >= 4.5, `${scheme} warning`);
    assert.ok(c('err-text', 'err-bg') >= 4.5, `${scheme} error`);
    for (const ui of ['input', 'focus', 'err-text']) assert.ok(c(ui, 'card') >= 3, `${scheme} ${ui} on card`);
  }
});
