import type { Health } from '@streamtrain/observability';
import type { FastifyInstance } from 'fastify';

/** The ops server of a service that is still starting. */
export interface EarlyOpsServer {
  /** The port it listens on. */
  port: number;
  /** Says what start is waiting for; `/readyz` reports it until {@link EarlyOpsServer.started}. */
  phase(description: string): void;
  /** Start is done: the `startup` check passes from now on (the dependency checks still count). */
  started(): void;
}

/**
 * Opens a service's `/healthz`, `/readyz` and `/metrics` before it connects to anything, so a
 * probe learns at once that the process lives and why it is not ready (503 with
 * `startup: <phase>`, e.g. `joining the consumer group`) instead of getting no answer while a
 * broker or a group join is slow (issue 13). Routes must be added to `http` before this call.
 */
export async function listenEarly(
  http: FastifyInstance,
  health: Health,
  options: { port: number; host: string },
): Promise<EarlyOpsServer> {
  let current: string | null = 'starting';
  health.register('startup', () => {
    if (current !== null) throw new Error(current);
    return true;
  });
  await http.listen({ port: options.port, host: options.host });
  const address = http.server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    phase: (description) => {
      if (current !== null) current = description;
    },
    started: () => {
      current = null;
    },
  };
}
