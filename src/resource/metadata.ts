import type { Hono } from 'hono';
import type { AppContext } from '../http/context.ts';

// STUB (owner: helper C) — replace with the real implementation.
export function mountProtectedResourceMetadata(_app: Hono, _ctx: AppContext): void {}
