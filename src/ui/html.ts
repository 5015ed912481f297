// Minimal HTML templating: everything interpolated is escaped unless it was
// explicitly wrapped with raw() (or produced by html``), so forgetting to
// escape a client-supplied value is impossible by construction.

const SAFE: unique symbol = Symbol('SafeHtml');

export type SafeHtml = { readonly [SAFE]: true; readonly value: string; toString(): string };

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Marks a trusted fragment as already-safe HTML. Never pass client data. */
export function raw(value: string): SafeHtml {
  return { [SAFE]: true, value, toString: () => value };
}

export function isSafeHtml(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && (v as { [SAFE]?: unknown })[SAFE] === true;
}

function render(v: unknown): string {
  // null/undefined/false render as nothing so `${cond && html`...`}` reads naturally.
  if (v === null || v === undefined || v === false) return '';
  if (isSafeHtml(v)) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return raw(out);
}

/**
 * Returns the URL if it is safe to put in href/src (https only, or a
 * root-relative path when allowSelf). Escaping alone does not stop
 * `javascript:` URLs, so URL attributes need a scheme allowlist too.
 */
export function safeUrl(value: string | undefined, opts: { allowSelf?: boolean; allowDataImage?: boolean } = {}): string | undefined {
  if (!value) return undefined;
  if (opts.allowSelf && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\')) return value;
  if (opts.allowDataImage && /^data:image\/(png|gif|jpeg|webp);base64,[a-z0-9+/=]+$/i.test(value)) return value;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

// Bidi overrides/isolates and control characters let a client name visually
// reorder or hide text (e.g. to spoof a host); strip them from display strings.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Cleans an untrusted display string: strips invisible characters, collapses whitespace, caps length. */
export function displayText(value: string, maxChars = 80): string {
  const clean = value.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(clean);
  return chars.length > maxChars ? chars.slice(0, maxChars - 1).join('').trimEnd() + '…' : clean;
}
