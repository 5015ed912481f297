import { createHash } from 'node:crypto';
import { DEFAULT_ACCENT, onAccent, validAccent, type Branding } from './branding.ts';
import { html, raw, safeUrl, type SafeHtml } from './html.ts';

// One static stylesheet, so its CSP hash is computed once. Colours meet WCAG AA
// in both schemes; the accent is only ever a button fill (with a computed text
// colour), never text on the page background, so any brand colour stays legible.
export const STYLESHEET = `
:root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--text:#1f2328;--muted:#57606a;--border:#d0d7de;
--input:#6e7781;--subtle:#f6f8fa;--link:#0a58ca;--focus:#0a58ca;--accent:${DEFAULT_ACCENT};--on-accent:${onAccent(DEFAULT_ACCENT)};
--warn-bg:#fff8c5;--warn-border:#d4a72c;--warn-text:#4d2d00;--err-bg:#ffebe9;--err-border:#ff8182;--err-text:#82071e;--ok-bg:#dafbe1;--ok-border:#4ac26b;--ok-text:#116329}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--text:#e6edf3;--muted:#9ea7b3;--border:#30363d;
--input:#8b949e;--subtle:#0d1117;--link:#79b8ff;--focus:#79b8ff;--warn-bg:#2e2410;--warn-border:#9e6a03;--warn-text:#f2cc60;
--err-bg:#2d1215;--err-border:#da3633;--err-text:#ffa198;--ok-bg:#12261e;--ok-border:#2ea043;--ok-text:#7ee2a8}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
display:flex;flex-direction:column;align-items:center;padding:2.5rem 1rem 1.5rem}
a{color:var(--link);text-underline-offset:2px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.site{display:flex;align-items:center;gap:.6rem;margin-bottom:1.5rem;font-weight:600;font-size:1.05rem;max-width:100%}
.site img{height:32px;width:auto;max-width:160px;border-radius:6px}
.site span{overflow-wrap:anywhere}
main{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:2rem}
main.wide{max-width:32rem}
main.full{max-width:64rem}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 .75rem;font-weight:650}
h2{font-size:1rem;margin:1.5rem 0 .5rem}
p{margin:0 0 1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.lead{color:var(--muted);margin-bottom:1.25rem}
.lead strong{color:var(--text)}
.small{font-size:.875rem;color:var(--muted)}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=text],input[type=password]{display:block;width:100%;font:inherit;color:var(--text);background:var(--card);
border:1px solid var(--input);border-radius:8px;padding:.6rem .75rem;min-height:2.75rem}
input:focus-visible{outline-offset:1px}
input[aria-invalid=true]{border-color:var(--err-text)}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;padding:.6rem 1.25rem;font:inherit;font-weight:600;
border-radius:8px;border:1px solid transparent;cursor:pointer;width:100%}
.btn-primary{background:var(--accent);color:var(--on-accent)}
.btn-primary:hover{filter:brightness(1.08)}
.btn-secondary{background:var(--card);color:var(--text);border-color:var(--input)}
.btn-secondary:hover{background:var(--subtle)}
.actions{display:grid;grid-template-columns:1fr 1fr;gap:.75rem;margin-top:1.5rem}
.notice{border:1px solid;border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.notice p{margin:0}.notice p+p{margin-top:.35rem}
.notice-error{background:var(--err-bg);border-color:var(--err-border);color:var(--err-text)}
.notice-warn{background:var(--warn-bg);border-color:var(--warn-border);color:var(--warn-text)}
.client{display:flex;gap:1rem;align-items:flex-start;margin-bottom:.25rem}
.client img{width:48px;height:48px;border-radius:10px;border:1px solid var(--border);flex:none;object-fit:cover}
.client h1{margin:0;overflow-wrap:anywhere;font-size:1.25rem}
.client h1 .rest{font-weight:400}
.unverified{font-size:.85rem;color:var(--muted);margin:.6rem 0 1.25rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;color:var(--muted);border:1px solid var(--border);border-radius:999px;padding:0 .5rem;margin-right:.25rem}
.destination{background:var(--subtle);border:1px solid var(--border);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.destination p{margin:0}
.destination .host{font-size:1.15rem;font-weight:700;margin-top:.15rem}
.scopes{list-style:none;padding:0;margin:0;border:1px solid var(--border);border-radius:8px}
.scopes li{padding:.7rem 1rem .7rem 2.5rem;position:relative}
.scopes li+li{border-top:1px solid var(--border)}
.scopes li::before{content:"";position:absolute;left:1rem;top:1.05rem;width:.5rem;height:.5rem;border-radius:50%;background:var(--muted)}
.scopes .desc{display:block}
.scopes code{color:var(--muted);font-size:.8rem}
.facts{margin:1.25rem 0 0;display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;font-size:.9rem}
.facts dt{color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere;min-width:0}
details{margin-top:1rem;font-size:.9rem}
summary{cursor:pointer;color:var(--muted)}
details .facts{margin:.75rem 0}details p{margin:.5rem 0 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--subtle);border:1px solid var(--border);border-radius:8px;padding:.75rem;margin:.5rem 0 0}
.fineprint{margin:1rem 0 0}
.inline-form{margin:1rem 0 0}.inline-form p{margin:0}
.spaced{margin-top:.75rem}
.hint{margin:.35rem 0 0}
.apps{list-style:none;padding:0;margin:0}
.app{border:1px solid var(--border);border-radius:8px;padding:1rem;margin:0 0 1rem}
.app h3{font-size:1.05rem;margin:0 0 .25rem;overflow-wrap:anywhere}
.app .trust{margin:0 0 .5rem}
.app .facts{margin:0 0 1rem}
.plain{list-style:none;padding:0;margin:0}
.badge-ok{color:var(--ok-text);border-color:var(--ok-border)}
.btn-danger{background:var(--card);color:var(--err-text);border-color:var(--err-border)}
.btn-danger:hover{background:var(--err-bg)}
.notice-ok{background:var(--ok-bg);border-color:var(--ok-border);color:var(--ok-text)}
.status{display:flex;align-items:center;gap:.5rem;font-weight:600}
.dot{width:.75rem;height:.75rem;border-radius:50%;flex:none}
.dot-ok{background:var(--ok-border)}.dot-bad{background:var(--err-border)}
.connect dt{font-weight:600;margin-top:1rem}
.connect dd{margin:0}
.connect pre{margin:.35rem 0 0}
.link-button{background:none;border:0;padding:0;font:inherit;color:var(--link);text-decoration:underline;text-underline-offset:2px;cursor:pointer}
footer{margin-top:1.5rem;font-size:.8rem;color:var(--muted);text-align:center}
/* Tables and small buttons (/admin): after .btn, which they refine. */
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.tabs{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:0 0 1.25rem;padding:0;list-style:none;border-bottom:1px solid var(--border)}
.tabs a{display:inline-block;padding:.4rem 0;color:var(--muted);text-decoration:none;border-bottom:2px solid transparent}
.tabs a[aria-current=page]{color:var(--text);font-weight:650;border-bottom-color:var(--text)}
.table-wrap{overflow-x:auto;margin:0 0 1rem}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{color:var(--muted);font-weight:600}
tbody th{color:var(--text)}
td code{font-size:.8rem}
.nowrap{white-space:nowrap}
.row-actions{display:flex;flex-wrap:wrap;gap:.4rem}
.row-actions form{margin:0}
.btn-small{min-height:2.25rem;padding:.3rem .75rem;width:auto;font-size:.875rem}
.btn-danger{background:var(--card);color:var(--err-text);border-color:var(--err-border)}
a.btn{text-decoration:none}
.btn-danger:hover{background:var(--err-bg)}
.notice-ok{background:var(--subtle);border-color:var(--border)}
@media (max-width:480px){body{padding:1.25rem .75rem 1rem}main{padding:1.25rem;border-radius:10px}.facts{grid-template-columns:1fr;gap:0}.facts dd{margin-bottom:.5rem}}
@media (max-width:360px){.actions{grid-template-columns:1fr}}
`;

const cspHash = (css: string) => `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
const STYLESHEET_HASH = cspHash(STYLESHEET);

// The accent is deployment configuration, so its one-rule stylesheet is a
// separate <style> whose hash is memoised per colour.
function accentCss(branding: Branding | undefined): string | undefined {
  const accent = validAccent(branding?.accentColor);
  if (!accent || accent === DEFAULT_ACCENT) return undefined;
  return `:root{--accent:${accent};--on-accent:${onAccent(accent)}}`;
}
const accentHashes = new Map<string, string>();
function accentHash(css: string): string {
  let h = accentHashes.get(css);
  if (!h) accentHashes.set(css, (h = cspHash(css)));
  return h;
}

/**
 * Headers every page must carry. Pass the same branding the page was rendered
 * with when it sets an accent colour, so that colour's stylesheet is allowed.
 */
export function pageSecurityHeaders(branding?: Branding): Record<string, string> {
  const accent = accentCss(branding);
  const styles = accent ? `${STYLESHEET_HASH} ${accentHash(accent)}` : STYLESHEET_HASH;
  return {
    // No form-action: after the consent POST we answer 303 to the client's
    // redirect URI (http://127.0.0.1:port/…, cursor://…), and Chromium applies
    // form-action to redirects that follow a form submission, so 'self' would
    // block the hand-back. A wildcard would be meaningless; the form targets
    // are our own server-built URLs and no script can inject forms here.
    'Content-Security-Policy': `default-src 'none'; style-src ${styles}; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/** `wide` for a page with more to read (consent), `full` for tables (/admin). */
export type LayoutOptions = { branding: Branding; title: string; body: SafeHtml; wide?: boolean; full?: boolean };

export function renderLayout(o: LayoutOptions): string {
  const logo = safeUrl(o.branding.logoUrl, { allowSelf: true, allowDataImage: true });
  const accent = accentCss(o.branding);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${o.title} · ${o.branding.serverName}</title>
<style>${raw(STYLESHEET)}</style>${accent ? html`<style>${raw(accent)}</style>` : ''}
</head>
<body>
<header class="site">${logo ? html`<img src="${logo}" alt="" referrerpolicy="no-referrer">` : ''}<span>${o.branding.serverName}</span></header>
<main${o.full ? raw(' class="full"') : o.wide ? raw(' class="wide"') : ''}>
${o.body}
</main>
<footer>Secured by Portcullis</footer>
</body>
</html>
`;
  return page.value;
}

/** Hidden inputs for the CSRF token and any carried request parameters. */
export function hiddenFields(csrfToken: string, hidden: Record<string, string>): SafeHtml {
  const rest = Object.entries(hidden)
    .filter(([name]) => name !== 'csrf_token')
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`);
  return html`<input type="hidden" name="csrf_token" value="${csrfToken}">\n${rest}`;
}
