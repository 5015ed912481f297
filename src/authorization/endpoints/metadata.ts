import type { Hono } from 'hono';
import type { AppContext } from '../../http/context.ts';

// STUB (owner: helper D) — replace with the real implementation.
export function mountDiscovery(_app: Hono, _ctx: AppContext): void {}
