/**
 * The storage contract: domain operations, each atomic in every backend. Secrets (codes, refresh
 * tokens, client secrets, session ids) are passed in and stored only as hashes; the server's own
 * secrets (signing keys, settings) are stored encrypted under a key-encryption key kept outside the
 * database. Times are epoch ms. Reads treat expired rows as absent.
 */

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  isAdmin: boolean;
  createdAt: number;
}

/** `cimd`: never stored; built from a client ID metadata document each time it is resolved. */
export type ClientSource = 'dcr' | 'cli' | 'cimd';
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A JWK Set (RFC 7517 §5): public keys only. */
export interface JwkSet {
  keys: Record<string, unknown>[];
}

export interface ClientRecord {
  clientId: string;
  /** Hash of the client secret; null for public clients. */
  secretHash: string | null;
  clientName: string;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  applicationType: 'native' | 'web';
  scope: string | null;
  clientUri: string | null;
  logoUri: string | null;
  /** Hash of a public registration's metadata, so identical registrations reuse one client. */
  metadataHash: string | null;
  source: ClientSource;
  createdAt: number;
  /** `private_key_jwt` clients: the public keys their assertions are signed with, inline (RFC 7591 §2 `jwks`)… */
  jwks?: JwkSet | null;
  /** …or by URL (`jwks_uri`, fetched with the SSRF guard). At most one of the two. */
  jwksUri?: string | null;
  /** When the client last completed a grant (code redeemed, token issued); null: never. Set by the storage. */
  lastGrantAt?: number | null;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: the token endpoint refuses this client any request without a DPoP proof. */
  dpopBoundAccessTokens?: boolean;
}

/** Room for self-registered (`dcr`) clients: how many may exist, and which may make way for a new one. */
export interface ClientCap {
  /** At most this many `dcr` clients. */
  max: number;
  /**
   * At the cap, the oldest `dcr` client that never completed a grant and was created before this time
   * is removed to make room (a flood of unused registrations cannot lock out new clients). Younger ones
   * are kept: they may be in their first authorization.
   */
  evictUnusedCreatedBefore: number;
}

/** Which self-registered clients `clients.prune` removes. Operator (`cli`) clients are never pruned. */
export interface ClientPruneRule {
  now: number;
  /** Never completed a grant and created before this time. */
  unusedCreatedBefore: number;
  /** Completed its last grant before this time and has no live grant now. */
  idleSince: number;
  /** Rows per batch (default 500). */
  batchSize?: number;
  /** Awaited between batches, so a long prune lets other work run. */
  pause?: () => Promise<void>;
}

/** A pending authorization request between /authorize and the consent decision. */
export interface AuthorizationRequestRecord {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string | null;
  scopes: string[];
  resource: string;
  codeChallenge: string;
  nonce: string | null;
  prompt: string | null;
  createdAt: number;
  expiresAt: number;
  /** RFC 9449 §10 `dpop_jkt`: the code is issued bound to this DPoP key thumbprint. */
  dpopJkt?: string | null;
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  grantId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  nonce: string | null;
  authTime: number;
  issueRefreshToken: boolean;
  expiresAt: number;
  /** RFC 9449 §10: only a token request with a DPoP proof by this key may redeem the code. */
  dpopJkt?: string | null;
}

export type ConsumeCodeResult =
  /** The code is used, its grant created (and its first refresh token, when one was given), all in one step. */
  | { status: 'ok'; code: AuthorizationCodeRecord; grant: GrantRecord }
  /** The code was redeemed before: the caller revokes what it issued. */
  | { status: 'replayed'; code: AuthorizationCodeRecord }
  | { status: 'invalid' };

/** One authorization of one client by one user: refresh tokens and access tokens belong to it. */
export interface GrantRecord {
  id: string;
  userId: string;
  clientId: string;
  scopes: string[];
  resource: string;
  createdAt: number;
  /** Absolute end of the grant, however often it is refreshed. */
  expiresAt: number;
  revokedAt: number | null;
  /**
   * RFC 9449 §5: a public client's refresh tokens are bound to the DPoP key the grant was obtained
   * with (its JWK SHA-256 thumbprint); every refresh must then come with a proof by that key.
   */
  dpopJkt?: string | null;
}

/** A live grant as the account page shows it: how recently it was used and whether it can renew itself. */
export interface GrantActivity {
  grant: GrantRecord;
  /** When its client last got a token from it: the code redeemed, or its latest refresh. */
  lastUsedAt: number;
  /** Until when its live refresh token keeps the client connected without the user (idle expiry); null: it has none. */
  refreshableUntil: number | null;
}

/** Which live grants `grants.listLive` returns. */
export interface LiveGrantFilter {
  now: number;
  userId?: string;
  clientId?: string;
  /** At most this many (default: all). */
  limit?: number;
}

export interface RefreshTokenRecord {
  tokenHash: string;
  grantId: string;
  clientId: string;
  scopes: string[];
  issuedAt: number;
  /** Idle expiry: the token must be used before this. */
  expiresAt: number;
  rotatedAt: number | null;
  successorHash: string | null;
}

export type RotateResult =
  | { status: 'rotated'; grant: GrantRecord }
  /** Same token presented again within the grace period: the caller re-issues the same successor. */
  | { status: 'retry'; grant: GrantRecord }
  /** A rotated token presented after the grace period: the grant has been revoked. */
  | { status: 'reused'; grantId: string }
  | { status: 'invalid' };

export interface RotateRefreshInput {
  tokenHash: string;
  successor: RefreshTokenRecord;
  now: number;
  gracePeriodMs: number;
  /**
   * The token's grant as the caller read it (`getWithGrant`). A grant never changes but for being
   * revoked, and rotation checks it is live in the statement that spends the token; with the grant
   * given, that check is all, and the grant is returned as given instead of being read again.
   */
  grant?: GrantRecord;
  /**
   * When this server process started. A token rotated before it (at most `restartWindowMs` before)
   * whose successor was never used is a retry for `gracePeriodMs` after the start: the grace period
   * does not run while the server is down (HARD-9; README "Refresh tokens").
   */
  startedAt?: number;
  restartWindowMs?: number;
}

/** The first refresh token of a grant, created with the grant when its code is redeemed. */
export interface FirstRefreshToken {
  tokenHash: string;
  expiresAt: number;
}

/** Options of `collectExpired`: bounded batches with a pause between them, so no sweep holds the process. */
export interface CollectOptions {
  /** Rows per delete statement; by default it adapts so each statement takes about 10 ms (50 to 2,000 rows). */
  batchSize?: number;
  /** Awaited between batches (default: a macrotask turn, `setTimeout(0)`). */
  pause?: () => Promise<void>;
}

export interface LoginSessionRecord {
  idHash: string;
  userId: string;
  /** A random salt; the session's CSRF form key is derived from it and the session id (identity/login-sessions.ts). */
  csrfSecret: string;
  createdAt: number;
  expiresAt: number;
}

export interface ConsentRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  updatedAt: number;
}

export interface TaskRecord {
  id: string;
  userId: string;
  title: string;
  done: boolean;
  createdAt: number;
  completedAt: number | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  /** Once retired the key signs nothing; it stays published until `publishUntil`. */
  retiredAt: number | null;
  publishUntil: number | null;
}

/** An identity at an upstream provider (OpenID Connect issuer, Stytch project) linked to a local user. */
export interface ExternalIdentityRecord {
  /** The provider kind: `oidc` or `stytch`. */
  provider: string;
  issuer: string;
  subject: string;
  userId: string;
  createdAt: number;
  lastLoginAt: number;
}

export type ExternalIdentityKey = Pick<ExternalIdentityRecord, 'provider' | 'issuer' | 'subject'>;

/** One login at an upstream provider, between the redirect there and our callback. */
export interface UpstreamTransactionRecord {
  /** Hash of the `state` (OIDC) or `tx` (Stytch) value that travels through the provider. */
  stateHash: string;
  /** Hash of the browser-binding cookie's value: the callback must come from the same browser. */
  browserHash: string;
  /** The pending authorization request the login is for: a stored request's id, or the request sealed (HMAC'd). */
  requestId: string;
  provider: string;
  /** Upstream PKCE verifier and OIDC nonce, sealed with a key the database does not hold; kept at most until the transaction expires. */
  codeVerifier: string | null;
  nonce: string | null;
  createdAt: number;
  expiresAt: number;
}

/** One key's fixed rate-limit window: the hits counted in it so far (this one included) and when it ends. */
export interface RateLimitWindow {
  count: number;
  resetAt: number;
}

export interface FailureCounter {
  count: number;
  lockedUntil: number;
}

export interface Storage {
  readonly users: {
    create(user: UserRecord): Promise<void>;
    byId(id: string): Promise<UserRecord | null>;
    byUsername(username: string): Promise<UserRecord | null>;
    list(): Promise<UserRecord[]>;
    count(): Promise<number>;
    /** Removes the user and everything they own (grants, tokens, consents, sessions, tasks, linked upstream identities). */
    remove(id: string): Promise<boolean>;
    setPassword(id: string, passwordHash: string): Promise<void>;
    /** Makes the user an administrator or not; false when there is no such user. */
    setAdmin(id: string, isAdmin: boolean): Promise<boolean>;
    /** The user's groups (tool policy), sorted; none for an unknown id. */
    groups(id: string): Promise<string[]>;
    /** Replaces the user's groups, atomically; false (and nothing stored) for an unknown user. */
    setGroups(id: string, groups: readonly string[]): Promise<boolean>;
  };
  readonly clients: {
    /**
     * Stores the client. With `cap` (self-registered clients only) it is atomic with the cap: when
     * `cap.max` `dcr` clients exist, the oldest evictable one is removed to make room, and when none is,
     * nothing is stored and the result is false. Never a count of the table; safe under concurrency.
     */
    create(client: ClientRecord, cap?: ClientCap): Promise<boolean>;
    get(clientId: string): Promise<ClientRecord | null>;
    byMetadataHash(hash: string): Promise<ClientRecord | null>;
    list(): Promise<ClientRecord[]>;
    /** Removes the client and revokes everything issued to it. */
    remove(clientId: string): Promise<boolean>;
    count(source?: ClientSource): Promise<number>;
    /**
     * Removes self-registered clients that never completed a grant (created before
     * `unusedCreatedBefore`) or whose last grant was completed before `idleSince` and that have no live
     * grant, with everything issued to them, in batches. Returns how many were removed.
     */
    prune(rule: ClientPruneRule): Promise<number>;
  };
  readonly authorizationRequests: {
    create(request: AuthorizationRequestRecord): Promise<void>;
    get(id: string, now: number): Promise<AuthorizationRequestRecord | null>;
    /** Atomic get-and-delete: a request is decided once. */
    take(id: string, now: number): Promise<AuthorizationRequestRecord | null>;
  };
  readonly authorizationCodes: {
    create(code: AuthorizationCodeRecord): Promise<void>;
    /**
     * Reads a code without using it, so the token endpoint can check a request's bindings (client,
     * PKCE, redirect URI, resource) before changing anything. A consumed code is returned even once
     * expired (a replay must still be recognised); an unused expired or unknown code is null.
     */
    peek(codeHash: string, now: number): Promise<{ code: AuthorizationCodeRecord; consumed: boolean } | null>;
    /**
     * Atomic single use: exactly one caller gets `ok`, later callers `replayed`, an unknown or expired
     * code is `invalid`. On `ok` it creates the code's grant (id `code.grantId`, the code's user, client, scopes and
     * resource, `createdAt = now`) in the same transaction, so a concurrent replay always finds the
     * grant to revoke (SEC-16); with `refreshToken` (given when the code allows one) also the grant's
     * first refresh token, so no crash leaves a grant without its refresh token (HARD-9); and it records
     * the client's use (`lastGrantAt`). Either all of it happens or none. `grantDpopJkt` binds the
     * new grant's refresh tokens to a DPoP key (RFC 9449 §5, public clients).
     */
    redeem(codeHash: string, now: number, grantExpiresAt: number, refreshToken?: FirstRefreshToken | null, grantDpopJkt?: string | null): Promise<ConsumeCodeResult>;
  };
  readonly grants: {
    /** Stores the grant and records the client's use (`lastGrantAt`). */
    create(grant: GrantRecord): Promise<void>;
    get(id: string): Promise<GrantRecord | null>;
    /** Revokes the grant and all its refresh tokens. Returns false if it was unknown or already revoked. */
    revoke(id: string, now: number): Promise<boolean>;
    listForUser(userId: string): Promise<GrantRecord[]>;
    /** The user's live grants (neither revoked nor expired at `now`), oldest first, with their use. */
    activityForUser(userId: string, now: number): Promise<GrantActivity[]>;
    /** Live grants (neither revoked nor expired at `now`), oldest first, of one user and/or one client when given. */
    listLive(filter: LiveGrantFilter): Promise<GrantRecord[]>;
    /** How many live grants each client has; clients without one are absent. */
    liveCountByClient(now: number): Promise<Map<string, number>>;
    /** Revokes every live grant of the user with its refresh tokens; returns the ids it revoked. */
    revokeForUser(userId: string, now: number): Promise<string[]>;
    /**
     * Binds an unbound grant to a DPoP key (RFC 9449 §5: a public client's refresh tokens, once it
     * refreshes with a proof). One conditional statement: true when the grant is now bound to `jkt`
     * (by this call or before), false when it is bound to another key, unknown or revoked.
     */
    bindDpopKey(id: string, jkt: string): Promise<boolean>;
  };
  readonly refreshTokens: {
    create(token: RefreshTokenRecord): Promise<void>;
    get(tokenHash: string): Promise<RefreshTokenRecord | null>;
    /** The token and its grant in one read (the refresh grant checks both before rotating); null when either is missing. */
    getWithGrant(tokenHash: string): Promise<{ token: RefreshTokenRecord; grant: GrantRecord } | null>;
    /**
     * Atomic rotation with reuse detection (OAuth 2.1 §4.3.1) and a grace period for retries. A grant
     * keeps at most two rows: its live token and the one it replaced (for retries); older spent tokens
     * are deleted here, and recognised as reuse by their family tag instead (refresh-secrets.ts, HARD-8).
     */
    rotate(input: RotateRefreshInput): Promise<RotateResult>;
  };
  readonly consents: {
    get(userId: string, clientId: string): Promise<ConsentRecord | null>;
    /** Remembers the union of what was granted before and `scopes`. */
    remember(userId: string, clientId: string, scopes: string[], now: number): Promise<void>;
    forget(userId: string, clientId: string): Promise<void>;
  };
  readonly loginSessions: {
    create(session: LoginSessionRecord): Promise<void>;
    get(idHash: string, now: number): Promise<LoginSessionRecord | null>;
    remove(idHash: string): Promise<void>;
    /** Live sessions (of one user when given), oldest first. */
    list(filter: { now: number; userId?: string }): Promise<LoginSessionRecord[]>;
    /** Ends every session of the user except `keepIdHash` (sign out everywhere else); returns how many ended. */
    removeForUser(userId: string, keepIdHash?: string): Promise<number>;
  };
  readonly externalIdentities: {
    /**
     * The local user linked to this upstream identity. When there is none, `newUser` is created and
     * linked in the same transaction, so concurrent first logins of one identity end with one link.
     * Records the login time either way.
     */
    resolve(identity: ExternalIdentityKey, newUser: UserRecord, now: number): Promise<{ user: UserRecord; created: boolean }>;
    listForUser(userId: string): Promise<ExternalIdentityRecord[]>;
  };
  readonly upstreamTransactions: {
    create(transaction: UpstreamTransactionRecord): Promise<void>;
    /** Atomic get-and-delete: a transaction completes at most once, and never after it expired. */
    take(stateHash: string, now: number): Promise<UpstreamTransactionRecord | null>;
  };
  /**
   * Single-use JWTs (RFC 7523 §3 item 7, EMA-06): client assertions and ID-JAGs, by a caller-made key
   * (a hash of issuer and `jti`), kept until the JWT expires.
   */
  readonly usedAssertions: {
    /**
     * Atomic insert-if-absent: true the first time `key` is used (or once an earlier use has expired),
     * false while an earlier use of it is unexpired. Records it as used until `expiresAt`.
     */
    markUsed(key: string, expiresAt: number, now: number): Promise<boolean>;
  };
  /** Counters for back-off (failed logins) keyed by a caller-chosen string. */
  readonly failures: {
    get(key: string, now: number): Promise<FailureCounter>;
    /** The counters of several keys in one read, in the order of `keys` (HARD-1 checks a client and an address per request). */
    getMany(keys: readonly string[], now: number): Promise<FailureCounter[]>;
    record(key: string, now: number, lockMs: (count: number) => number, windowMs: number): Promise<FailureCounter>;
    clear(key: string): Promise<void>;
  };
  /** Request counters for rate limits, shared by every instance on the store, keyed by a caller-chosen string. */
  readonly rateLimits: {
    /**
     * Counts one hit for `key` in one atomic statement. The first hit, or the first after the key's
     * window ended, opens a window of `windowMs` with count 1; any other adds one to the window's count.
     * Returns the window as it is after this hit. Ended windows are deleted by `collectExpired`.
     */
    hit(key: string, windowMs: number, now: number): Promise<RateLimitWindow>;
  };
  readonly tasks: {
    list(userId: string): Promise<TaskRecord[]>;
    create(task: TaskRecord): Promise<void>;
    complete(userId: string, id: string, now: number): Promise<TaskRecord | null>;
    remove(userId: string, id: string): Promise<boolean>;
  };
  /** Private JWKs are sealed under the key-encryption key in storage; records carry them in clear. */
  readonly signingKeys: {
    list(): Promise<SigningKeyRecord[]>;
    /**
     * Adds `key` (unretired) unless an unretired key exists: one conditional statement, so of many
     * instances starting together on an empty database exactly one adds its key. True if it did.
     */
    addIfNoneActive(key: SigningKeyRecord): Promise<boolean>;
    /** Atomically retires every unretired key (published until `publishUntil`) and adds `next`: at any time one key is active. */
    rotate(next: SigningKeyRecord, now: number, publishUntil: number): Promise<void>;
  };
  /** Small named values the server generates once (e.g. the refresh-successor key), sealed in storage like signing keys. */
  readonly settings: {
    get(name: string): Promise<string | null>;
    /** Sets the value unless one exists; returns the value that is stored afterwards. */
    putIfAbsent(name: string, value: string): Promise<string>;
  };
  /**
   * Re-seals every stored secret (signing keys, settings) not sealed under the current key-encryption
   * key, e.g. after a rotation of that key; returns how many values it changed.
   */
  rewrapSecrets(): Promise<number>;
  /** Deletes expired rows in bounded batches with a pause between them; returns how many. */
  collectExpired(now: number, options?: CollectOptions): Promise<number>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /**
   * Whether the database takes writes: a write tried in a transaction that is then rolled back, so it
   * changes nothing. Null when it does; otherwise the database's reason (a read-only file, a standby,
   * a user without write grants), which would otherwise surface only at the first sign-in.
   */
  writeProblem(): Promise<string | null>;
  close(): Promise<void>;
}
