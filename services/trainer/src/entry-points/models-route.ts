import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** What `GET /v1/models` needs. */
export interface ModelsRouteOptions {
  /** The bearer token (`TRAINER_API_TOKEN`). */
  token: string;
  /** The registry listing to show. */
  list: () => Promise<unknown>;
}

/**
 * Adds `GET /v1/models` (the registry's versions, newest first) behind the bearer token, as the
 * orchestrator's API does: a missing or wrong `Authorization: Bearer <token>` gets 401.
 */
export function registerModelsRoute(http: FastifyInstance, options: ModelsRouteOptions): void {
  const expected = Buffer.from(`Bearer ${options.token}`);
  http.register((api, _opts, done) => {
    api.addHook('onRequest', async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'missing or wrong bearer token' });
      }
    });
    api.get('/v1/models', () => options.list());
    done();
  });
}
