import type { Hono } from 'hono';
import type { AppContext } from '../../http/context.ts';

// STUB (owner: helper A) — replace with the real implementation.
export function mountAuthorization(_app: Hono, _ctx: AppContext): void {}
