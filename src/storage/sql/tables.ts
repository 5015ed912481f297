/** Row shapes as stored. Booleans are 0/1, lists are space- or JSON-encoded text, times are epoch ms. */
export interface Database {
  users: { id: string; username: string; password_hash: string; is_admin: number; created_at: number };
  clients: {
    client_id: string;
    secret_hash: string | null;
    client_name: string;
    redirect_uris: string;
    grant_types: string;
    response_types: string;
    token_endpoint_auth_method: string;
    application_type: string;
    scope: string | null;
    client_uri: string | null;
    logo_uri: string | null;
    metadata_hash: string | null;
    source: string;
    created_at: number;
    /** A JSON JWK Set (RFC 7517 §5), or null. */
    jwks: string | null;
    jwks_uri: string | null;
    /** When the client last completed a grant; null: never (HARD-7). */
    last_grant_at: number | null;
    /** 1: RFC 9449 §5.2 `dpop_bound_access_tokens`; null: not registered. */
    dpop_bound_access_tokens: number | null;
  };
  authorization_requests: {
    id: string;
    client_id: string;
    redirect_uri: string;
    state: string | null;
    scopes: string;
    resource: string;
    code_challenge: string;
    nonce: string | null;
    prompt: string | null;
    created_at: number;
    expires_at: number;
    dpop_jkt: string | null;
  };
  authorization_codes: {
    code_hash: string;
    grant_id: string;
    client_id: string;
    user_id: string;
    redirect_uri: string;
    code_challenge: string;
    scopes: string;
    resource: string;
    nonce: string | null;
    auth_time: number;
    issue_refresh_token: number;
    expires_at: number;
    consumed_at: number | null;
    dpop_jkt: string | null;
  };
  grants: {
    id: string;
    user_id: string;
    client_id: string;
    scopes: string;
    resource: string;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
    dpop_jkt: string | null;
  };
  refresh_tokens: {
    token_hash: string;
    grant_id: string;
    client_id: string;
    scopes: string;
    issued_at: number;
    expires_at: number;
    rotated_at: number | null;
    successor_hash: string | null;
  };
  consents: { user_id: string; client_id: string; scopes: string; updated_at: number };
  login_sessions: { id_hash: string; user_id: string; csrf_secret: string; created_at: number; expires_at: number };
  failures: { key: string; count: number; first_at: number; locked_until: number };
  tasks: { id: string; user_id: string; title: string; done: number; created_at: number; completed_at: number | null };
  signing_keys: {
    kid: string;
    alg: string;
    private_jwk: string;
    public_jwk: string;
    created_at: number;
    retired_at: number | null;
    publish_until: number | null;
  };
  settings: { name: string; value: string };
  /** Group memberships of local accounts, for tool policy (`toolPolicy.rules[].groups`). */
  user_groups: { user_id: string; group_name: string };
  external_identities: { provider: string; issuer: string; subject: string; user_id: string; created_at: number; last_login_at: number };
  upstream_transactions: {
    state_hash: string;
    browser_hash: string;
    request_id: string;
    provider: string;
    code_verifier: string | null;
    nonce: string | null;
    created_at: number;
    expires_at: number;
  };
  used_assertions: { key: string; expires_at: number };
  rate_limits: { key: string; count: number; reset_at: number };
  /** Counts kept by the statements that change them (`clients.dcr`: self-registered clients). */
  counters: { name: string; value: number };
}
