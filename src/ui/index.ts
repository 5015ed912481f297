export { html, raw, escapeHtml, safeUrl, displayText, isSafeHtml, type SafeHtml } from './html.ts';
export { type Branding, validAccent, onAccent, contrastRatio, DEFAULT_ACCENT } from './branding.ts';
export { STYLESHEET, pageSecurityHeaders, renderLayout, hiddenFields, type LayoutOptions } from './layout.ts';
export { renderLoginPage, type LoginView } from './login-page.ts';
export { renderConsentPage, type ConsentView } from './consent-page.ts';
export { renderErrorPage, type ErrorView } from './error-page.ts';
export { renderEmailCodePage, type EmailCodeView } from './email-code-page.ts';
