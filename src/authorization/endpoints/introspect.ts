import type { Hono } from 'hono';
import type { AppContext } from '../../http/context.ts';

// STUB (owner: helper B) — replace with the real implementation.
export function mountIntrospection(_app: Hono, _ctx: AppContext): void {}
