import type { LocalIdentityProvider } from './types.ts';

/** The default: Portcullis's own accounts, signed in on its login page (src/authorization/endpoints/login.ts). */
export const localIdentityProvider: LocalIdentityProvider = Object.freeze({ kind: 'local' });
