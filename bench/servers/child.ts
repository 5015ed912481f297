/**
 * Entry of a benchmarked server process. The runner forks it (pinned to its own core when it can),
 * then drives it over IPC: `start` a server of some kind, read its CPU time and memory (`usage`),
 * force a full garbage collection (`gc`, needs --expose-gc), record a CPU profile of one phase
 * (`profile-start`, `profile-stop`), `stop`. Nothing here is part of the
 * product: the gc trigger exists only in this bench process.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { ChildReply, ChildRequest, RunningServer, ServerSpec, Usage } from './types.ts';

let server: RunningServer | undefined;
let profiler: Session | undefined;

function usage(): Usage {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return { cpuMicros: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed };
}

async function start(spec: ServerSpec): Promise<RunningServer> {
  switch (spec.kind) {
    case 'bare':
      return (await import('./bare.ts')).startBare();
    case 'portcullis':
      return (await import('./portcullis.ts')).startPortcullis(spec);
    case 'sdk':
      return (await import('./sdk-peer.ts')).startSdkPeer(spec);
    case 'mcp-upstream':
      return (await import('./mcp-upstream.ts')).startMcpUpstream();
    case 'gateway':
      return (await import('./portcullis-gateway.ts')).startPortcullisGateway(spec);
    case 'bare-proxy':
      return (await import('./bare-proxy.ts')).startBareProxy(spec);
  }
}

async function collectGarbage(): Promise<Usage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server child was started without --expose-gc');
  // Two passes with a turn of the event loop between them, so finalizers and weak maps settle.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return usage();
}

async function handle(request: ChildRequest): Promise<unknown> {
  switch (request.type) {
    case 'start':
      if (server) throw new Error('already started');
      server = await start(request.spec);
      return server.ports;
    case 'usage':
      return usage();
    case 'gc':
      return collectGarbage();
    case 'command':
      if (!server?.command) throw new Error(`no command ${request.name} on this server`);
      return server.command(request.name, request.payload);
    case 'profile-start':
      if (profiler) throw new Error('already profiling');
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return null;
    case 'profile-stop': {
      if (!profiler) throw new Error('not profiling');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(request.file, JSON.stringify(profile));
      return null;
    }
    case 'stop':
      await server?.close();
      server = undefined;
      // Let the reply go out first.
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: ChildRequest) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies ChildReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ChildReply),
  );
});
// The runner went away (crash, Ctrl+C): never outlive it.
process.on('disconnect', () => process.exit(0));
