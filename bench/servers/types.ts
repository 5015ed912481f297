/** The user and client an auth-off endpoint acts for on every request. */
export interface FixedPrincipal {
  subject: string;
  clientId: string;
  scopes: string[];
}

/**
 * What the bench runner asks a server child to start, by kind. Sent over IPC, so plain JSON. The
 * auth-off variant of a server listens in the same process as the authenticated one (listener
 * `noAuth`), so both run with the same heap, JIT state and database connection.
 */
export type ServerSpec =
  | { kind: 'bare' }
  | { kind: 'portcullis'; database: string; noAuth?: FixedPrincipal }
  | { kind: 'sdk'; database: string; jwks: { keys: unknown[] }; issuer: string; audience: string; noAuth: FixedPrincipal }
  /** The gateway phase: an SDK MCP server, Portcullis in gateway mode in front of it, and a bare proxy in front of it. */
  | { kind: 'mcp-upstream' }
  | { kind: 'gateway'; database: string; publicUrl: string; upstreamUrl: string }
  | { kind: 'bare-proxy'; upstreamUrl: string };

/** Listeners of a server process: `main`, and `noAuth` where there is one. */
export type Listener = 'main' | 'noAuth';

/** A server listening on 127.0.0.1 inside the child. */
export interface RunningServer {
  ports: Partial<Record<Listener, number>>;
  close(): Promise<void>;
  /** Kind-specific bench commands (e.g. seeding the SDK peer's refresh tokens). */
  command?(name: string, payload: unknown): Promise<unknown>;
}

/** Messages from the runner to the child; every one is answered with a {@link ChildReply} of the same id. */
export type ChildRequest =
  | { id: number; type: 'start'; spec: ServerSpec }
  | { id: number; type: 'usage' }
  | { id: number; type: 'gc' }
  | { id: number; type: 'command'; name: string; payload: unknown }
  | { id: number; type: 'profile-start' }
  | { id: number; type: 'profile-stop'; file: string }
  | { id: number; type: 'stop' };

export interface Usage {
  /** process.cpuUsage() user + system, all threads of the child, in microseconds since it started. */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
}

export type ChildReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
