import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Health } from './health';

/** Options of {@link createOpsServer}. */
export interface OpsServerOptions {
  registry: Registry;
  health: Health;
  logger: Logger;
}

/**
 * The HTTP server every service runs: `/healthz` (liveness), `/readyz` (readiness, 503 while a
 * dependency is down), `/metrics` (Prometheus text). Services add their own routes to the
 * returned instance before `listen`.
 */
export function createOpsServer(options: OpsServerOptions): FastifyInstance {
  // Request logging is off: probes and scrapes every few seconds would drown the service's logs.
  const app: FastifyInstance = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    options.logger.error({ err: error, component: 'http' }, 'HTTP handler failed');
    return reply.code(500).send({ error: 'internal error' });
  });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await options.health.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.header('content-type', options.registry.contentType).send(body);
  });
  return app;
}
