import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientCap, ClientRecord, ClientSource, JwkSet, Storage, TokenEndpointAuthMethod } from '../../storage/types.ts';
import type { Clock } from '../../util/clock.ts';
import { seconds } from '../../util/clock.ts';
import { hashSecret, opaqueToken, randomId, type RandomBytes } from '../../util/crypto.ts';
import { JWT_BEARER_GRANT, type Capabilities } from '../capabilities.ts';
import { isPublicAsymmetricKey, parseJwkSet } from './client-keys.ts';
import { deceptiveNameProblem } from './client-name.ts';
import { classifyRedirectUri } from './redirect-uris.ts';

/**
 * Client metadata validation and client creation (RFC 7591 §2, §3.2), shared by dynamic client
 * registration (`POST /register`) and `portcullis clients add`. Every value is checked against
 * `ctx.capabilities`, so a client can only register what the server really does.
 */

/** Metadata after validation and defaults: exactly what gets stored and echoed back. */
export interface ClientMetadata {
  clientName: string;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  applicationType: 'native' | 'web';
  scope: string | null;
  clientUri: string | null;
  logoUri: string | null;
  /** `private_key_jwt` clients only: their public keys, inline or by URL (exactly one). */
  jwks?: JwkSet;
  jwksUri?: string;
  /** RFC 9449 §5.2: the client always uses DPoP, so a token request without a proof is refused. Only set when true. */
  dpopBoundAccessTokens?: true;
}

export interface ValidateClientOptions {
  /**
   * Registered by the operator (`portcullis clients add`), not by anyone over `/register`: only such
   * clients may have the machine grants, and a client without `authorization_code` needs no
   * redirect URI (MCP CC-02: client-credentials clients are pre-registered).
   */
  preRegistered?: boolean;
  /** Accept an `http:` `jwks_uri` (only with `dangerouslyAllowPrivateNetworkFetches`, for tests). */
  allowHttpJwksUri?: boolean;
}

/** A client acting for itself, with no user anywhere: operator-registered clients only (CC-02). */
const PRE_REGISTERED_ONLY_GRANTS = ['client_credentials'];
/**
 * Grants that issue tokens from the token endpoint alone need a client that can prove who it is: an
 * ID-JAG or a client's own credentials must not be usable by whoever holds them (EMA-02). The
 * jwt-bearer grant is open to DCR and CIMD clients too (EMA-02 names CIMD clients), since only an
 * enterprise IdP we trust can issue an ID-JAG naming them.
 */
const CONFIDENTIAL_ONLY_GRANTS = ['client_credentials', JWT_BEARER_GRANT];

export const DEFAULT_CLIENT_NAME = 'Unnamed client';
const MAX_CLIENT_NAME = 200;
const MAX_REDIRECT_URIS = 20;
const MAX_URI_LENGTH = 2000;
/** An inline JWK Set holds a client's few current keys (rotation needs two or three), not a key store (HARD-11). */
export const MAX_INLINE_JWKS_KEYS = 10;
export const MAX_INLINE_JWKS_BYTES = 16 * 1024;

const invalidMetadata = (description: string) => new OAuthError('invalid_client_metadata', description);
const invalidRedirect = (description: string) => new OAuthError('invalid_redirect_uri', description);

/**
 * Validates an RFC 7591 registration request body and applies the defaults. Unknown fields are
 * ignored (RFC 7591 §2: "the authorization server MUST ignore any client metadata sent by the
 * client that it does not understand"). Throws `OAuthError` (`invalid_redirect_uri` or
 * `invalid_client_metadata`, 400) naming the field at fault.
 */
export function validateClientMetadata(body: unknown, capabilities: Capabilities, options: ValidateClientOptions = {}): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidMetadata('The request body must be a JSON object.');
  const input = body as Record<string, unknown>;

  const declaredGrants = Array.isArray(input.grant_types) ? (input.grant_types as unknown[]) : null;
  const interactive = !options.preRegistered || declaredGrants === null || declaredGrants.includes('authorization_code');
  const redirectUris = interactive ? validateRedirectUris(input.redirect_uris) : noRedirectUris(input.redirect_uris);

  const authMethod = optionalString(input, 'token_endpoint_auth_method') ?? 'client_secret_basic'; // RFC 7591 §2 default
  if (!capabilities.tokenEndpointAuthMethods.includes(authMethod)) {
    throw invalidMetadata(`token_endpoint_auth_method must be one of: ${capabilities.tokenEndpointAuthMethods.join(', ')}.`);
  }

  const grantTypes = unique(optionalStringArray(input, 'grant_types') ?? ['authorization_code']);
  for (const g of grantTypes) {
    if (!capabilities.grantTypes.includes(g)) throw invalidMetadata(`grant_types: ${g} is not supported; use ${capabilities.grantTypes.join(', ')}.`);
    if (PRE_REGISTERED_ONLY_GRANTS.includes(g) && !options.preRegistered) {
      throw invalidMetadata(`grant_types: ${g} is only for clients the operator registers (portcullis clients add).`);
    }
    if (CONFIDENTIAL_ONLY_GRANTS.includes(g) && authMethod === 'none') throw invalidMetadata(`grant_types: ${g} needs a confidential client (a secret or private_key_jwt).`);
  }
  // Dynamic registrations: both grants open to them start at the authorization endpoint (RFC 7591 §2.1).
  if (!interactive || !grantTypes.includes('authorization_code')) {
    if (!options.preRegistered) throw invalidMetadata('grant_types must include authorization_code.');
    if (grantTypes.includes('refresh_token')) throw invalidMetadata('grant_types: refresh_token needs authorization_code.');
  }

  const responseTypes = interactive ? unique(optionalStringArray(input, 'response_types') ?? ['code']) : [];
  for (const r of responseTypes) {
    if (!capabilities.responseTypes.includes(r as 'code')) throw invalidMetadata(`response_types: ${r} is not supported; use code.`);
  }
  if (interactive && !responseTypes.includes('code')) throw invalidMetadata('response_types must include code when grant_types includes authorization_code.');

  const applicationType = optionalString(input, 'application_type') ?? deriveApplicationType(redirectUris);
  if (applicationType !== 'native' && applicationType !== 'web') throw invalidMetadata('application_type must be native or web.');

  return {
    clientName: validateClientName(input.client_name),
    redirectUris,
    grantTypes,
    responseTypes,
    tokenEndpointAuthMethod: authMethod as TokenEndpointAuthMethod,
    applicationType,
    scope: validateScope(input.scope, capabilities),
    clientUri: optionalHttpsUrl(input, 'client_uri'),
    logoUri: optionalHttpsUrl(input, 'logo_uri'),
    ...validateClientKeys(input, authMethod, options.allowHttpJwksUri === true),
    ...(validateDpopBound(input.dpop_bound_access_tokens) ? { dpopBoundAccessTokens: true as const } : {}),
  };
}

/** RFC 9449 §5.2 `dpop_bound_access_tokens`: a boolean, default false. */
function validateDpopBound(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidMetadata('dpop_bound_access_tokens must be true or false.');
  return value;
}

/** A client without `authorization_code` never receives a redirect, so it may not name one. */
function noRedirectUris(value: unknown): string[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return [];
  throw invalidRedirect('redirect_uris are only for clients with the authorization_code grant.');
}

/**
 * RFC 7591 §2 `jwks` / `jwks_uri`, for `private_key_jwt` (RFC 7523 §2.2, SEC-29): exactly one of the
 * two; inline keys must be public asymmetric keys (a private or symmetric key would be a secret
 * published in our database); a URL must be https. Other methods need no keys, so any sent are ignored.
 */
function validateClientKeys(input: Record<string, unknown>, authMethod: string, allowHttp: boolean): { jwks?: JwkSet; jwksUri?: string } {
  if (authMethod !== 'private_key_jwt') return {};
  const { jwks, jwks_uri: jwksUri } = input;
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(jwks) && has(jwksUri)) throw invalidMetadata('Give jwks or jwks_uri, not both (RFC 7591 section 2).');
  if (has(jwks)) {
    const keys = (jwks as { keys?: unknown }).keys;
    if (Array.isArray(keys) && keys.length > MAX_INLINE_JWKS_KEYS) throw invalidMetadata(`jwks may hold at most ${MAX_INLINE_JWKS_KEYS} keys; publish more at a jwks_uri.`);
    if (JSON.stringify(jwks).length > MAX_INLINE_JWKS_BYTES) throw invalidMetadata(`jwks may be at most ${MAX_INLINE_JWKS_BYTES} bytes; publish larger sets at a jwks_uri.`);
    const set = parseJwkSet(jwks);
    if (!set || set.keys.length === 0) throw invalidMetadata('jwks must be a JWK Set: an object with a non-empty keys array.');
    if (!set.keys.every(isPublicAsymmetricKey)) throw invalidMetadata('jwks may hold only public EC, RSA or OKP keys.');
    return { jwks: set };
  }
  if (has(jwksUri)) {
    if (typeof jwksUri !== 'string' || jwksUri.length > MAX_URI_LENGTH) throw invalidMetadata('jwks_uri must be an https URL.');
    let url: URL | null = null;
    try {
      url = new URL(jwksUri);
    } catch {
      // reported below
    }
    const schemeOk = url?.protocol === 'https:' || (allowHttp && url?.protocol === 'http:');
    if (!url || !schemeOk || url.username || url.password || url.hash) throw invalidMetadata('jwks_uri must be an https URL.');
    return { jwksUri };
  }
  throw invalidMetadata('token_endpoint_auth_method private_key_jwt needs jwks or jwks_uri.');
}

function validateRedirectUris(value: unknown): string[] {
  if (value === undefined || value === null) throw invalidRedirect('redirect_uris is required.');
  if (!Array.isArray(value) || value.length === 0) throw invalidRedirect('redirect_uris must be a non-empty array of URIs.');
  if (value.length > MAX_REDIRECT_URIS) throw invalidRedirect(`redirect_uris may list at most ${MAX_REDIRECT_URIS} URIs.`);
  for (const uri of value) {
    if (typeof uri !== 'string') throw invalidRedirect('redirect_uris must contain only strings.');
    if (uri.length > MAX_URI_LENGTH) throw invalidRedirect(`A redirect URI may have at most ${MAX_URI_LENGTH} characters.`);
    // AS-22, OAuth 2.1 §2.3.1, RFC 8252 §7: https, loopback http, or a native app's private-use scheme.
    const kind = classifyRedirectUri(uri);
    if ('error' in kind) throw invalidRedirect(`Redirect URI refused: ${kind.error}.`);
  }
  return unique(value as string[]);
}

/**
 * `application_type` is optional in RFC 7591; when a client leaves it out we derive it as the MCP SDK
 * does (SEP-837): loopback or private-use redirects mean a native app, otherwise a web app. We do not
 * refuse combinations OIDC DCR §2 frowns on (a `web` client with loopback redirects): the redirect
 * rules above already keep every URI safe, and refusing would only break MCP clients in the wild.
 */
function deriveApplicationType(redirectUris: string[]): 'native' | 'web' {
  return redirectUris.some((u) => {
    const c = classifyRedirectUri(u);
    return 'kind' in c && c.kind !== 'https';
  })
    ? 'native'
    : 'web';
}

function validateClientName(value: unknown): string {
  if (value === undefined || value === null) return DEFAULT_CLIENT_NAME;
  if (typeof value !== 'string') throw invalidMetadata('client_name must be a string.');
  const name = value.trim();
  if (!name) return DEFAULT_CLIENT_NAME;
  if (name.length > MAX_CLIENT_NAME) throw invalidMetadata(`client_name may have at most ${MAX_CLIENT_NAME} characters.`);
  const deceptive = deceptiveNameProblem(value);
  if (deceptive) throw invalidMetadata(`client_name ${deceptive}`);
  return name;
}

/** RFC 7591 §2: the server MAY reject scopes it does not offer; we do, so consent never shows a surprise. */
function validateScope(value: unknown, capabilities: Capabilities): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidMetadata('scope must be a space-separated string.');
  const scopes = unique(value.split(' ').filter(Boolean));
  if (scopes.length === 0) return null;
  const unknown = scopes.filter((s) => !capabilities.scopesSupported.includes(s));
  if (unknown.length) throw invalidMetadata(`scope: ${unknown.join(' ')} not offered by this server; it offers ${capabilities.scopesSupported.join(' ')}.`);
  return scopes.join(' ');
}

/** `client_uri` and `logo_uri` are shown to people, so only https (RFC 7591 §5: treat as untrusted). */
function optionalHttpsUrl(input: Record<string, unknown>, field: string): string | null {
  const value = optionalString(input, field);
  if (value === undefined || value === '') return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || url.protocol !== 'https:' || value.length > MAX_URI_LENGTH || url.username || url.password) {
    throw invalidMetadata(`${field} must be an https URL.`);
  }
  return value;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidMetadata(`${field} must be a string.`);
  return value;
}

function optionalStringArray(input: Record<string, unknown>, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw invalidMetadata(`${field} must be a non-empty array of strings.`);
  }
  return value as string[];
}

const unique = (values: string[]): string[] => [...new Set(values)];

export interface RegisterClientDeps {
  storage: Storage;
  clock: Clock;
  random: RandomBytes;
}

export interface RegisterClientOptions {
  source: ClientSource;
  /**
   * Dynamic registrations only: how many self-registered clients may exist and which may make room
   * (client-expiry.ts), so an open registration endpoint cannot fill the database. Enforced by the
   * storage atomically with the insert. Reused public registrations are still answered.
   */
  cap?: ClientCap;
}

export interface RegisteredClient {
  client: ClientRecord;
  /** The client secret in clear: returned to the caller once, stored only as a hash. Null for public clients. */
  clientSecret: string | null;
  /** True when an identical public registration existed and was returned instead of a new client. */
  reused: boolean;
}

/**
 * Creates a client. A public dynamic registration identical to an earlier one returns that client
 * instead: MCP clients register again on every install or run, and nothing distinguishes two
 * public clients with the same metadata anyway (they share no secret). Confidential registrations
 * always get a new client, because each gets its own secret.
 */
export async function registerClient(deps: RegisterClientDeps, metadata: ClientMetadata, options: RegisterClientOptions): Promise<RegisteredClient> {
  const isPublic = metadata.tokenEndpointAuthMethod === 'none';
  const metadataHash = isPublic && options.source === 'dcr' ? hashClientMetadata(metadata) : null;
  if (metadataHash) {
    const existing = await deps.storage.clients.byMetadataHash(metadataHash);
    if (existing) return { client: existing, clientSecret: null, reused: true };
  }
  // private_key_jwt clients prove themselves with their keys: they get no secret.
  const usesSecret = metadata.tokenEndpointAuthMethod === 'client_secret_basic' || metadata.tokenEndpointAuthMethod === 'client_secret_post';
  const clientSecret = usesSecret ? opaqueToken('pcs_', deps.random) : null;
  const client: ClientRecord = {
    clientId: newClientId(deps.random),
    secretHash: clientSecret ? hashSecret(clientSecret) : null,
    ...metadata,
    metadataHash,
    source: options.source,
    createdAt: deps.clock.now(),
  };
  const cap = options.source === 'dcr' ? options.cap : undefined;
  if (!(await deps.storage.clients.create(client, cap))) {
    throw new OAuthError('temporarily_unavailable', 'This server has reached its limit of registered clients. Ask its operator to remove unused ones.', {
      detail: `dynamic client cap of ${cap?.max} reached and no unused client old enough to make room`,
    });
  }
  return { client, clientSecret, reused: false };
}

/** A prefix keeps ids from starting with `-` (base64url can), which a command line would take for an option. */
export const newClientId = (random: RandomBytes): string => 'cl_' + randomId(random);

/** Order-insensitive fingerprint of the metadata: two registrations that mean the same thing hash the same. */
export function hashClientMetadata(m: ClientMetadata): string {
  const sorted = (values: string[]) => [...values].sort();
  return hashSecret(
    JSON.stringify([
      'v1',
      m.clientName,
      sorted(m.redirectUris),
      sorted(m.grantTypes),
      sorted(m.responseTypes),
      m.tokenEndpointAuthMethod,
      m.applicationType,
      m.scope === null ? null : sorted(m.scope.split(' ')),
      m.clientUri,
      m.logoUri,
      // Appended only when set, so the fingerprints of registrations made before DPoP stay the same.
      ...(m.dpopBoundAccessTokens ? ['dpop_bound_access_tokens'] : []),
    ]),
  );
}

/** RFC 7591 §3.2.1: the client information response, every registered value including applied defaults. */
export function clientInformationResponse(client: ClientRecord, clientSecret: string | null): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_id_issued_at: seconds(client.createdAt),
    ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}),
    client_name: client.clientName,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    ...(client.scope ? { scope: client.scope } : {}),
    ...(client.clientUri ? { client_uri: client.clientUri } : {}),
    ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    ...(client.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
  };
}
