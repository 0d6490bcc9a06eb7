import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { StreamtrainError } from '@streamtrain/contracts';
import { RegistryOperationError } from '@streamtrain/warehouse';
import type { ModelOperations } from '../operations/model-operations';
import type { RunOperations } from '../workflow/run-operations';

/** Options of {@link registerHttpApi}. */
export interface HttpApiOptions {
  token: string;
  /** The model the API serves (`/v1/models/<name>/…`). */
  modelName: string;
  /**
   * The operations once start is done; undefined before (the routes exist from the first moment
   * the ops server listens, and answer 503 until then).
   */
  operations: () => { models: ModelOperations; runs: RunOperations } | undefined;
}

const VersionStatus = z.enum(['champion', 'rejected', 'retired']);
const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
const Page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});
const VersionQuery = Page.extend({ status: VersionStatus.optional() });
const RunQuery = Page.extend({ workflow: z.string().optional(), status: RunStatus.optional() });
const Reason = z.object({ reason: z.string().min(1).default('no reason given') });
const PromoteBody = Reason.extend({ versionId: z.string().min(1) });
const RollbackBody = Reason.extend({ versionId: z.string().min(1).optional() });
const TriggerBody = Reason.extend({
  workflow: z.string().min(1).default('retrain'),
  params: z.record(z.string(), z.unknown()).default({}),
});
const ScheduleBody = z.object({
  cron: z.string().min(1),
  timezone: z.string().min(1).default('UTC'),
});

/** Operator-facing errors: a registry refusal or a bad value is the caller's, not a 500. */
function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof z.ZodError) {
    return reply.code(400).send({
      error: 'invalid request',
      issues: error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`),
    });
  }
  if (error instanceof RegistryOperationError) {
    return reply.code(error.kind === 'not-found' ? 404 : 409).send({ error: error.message });
  }
  if (error instanceof StreamtrainError && error.code === 'CONFIG_INVALID') {
    return reply.code(400).send({ error: error.message });
  }
  throw error;
}

function actorOf(request: FastifyRequest): string {
  const header = request.headers['x-streamtrain-actor'];
  return typeof header === 'string' && header.length > 0 ? `api:${header}` : 'api';
}

const json = (schema: z.ZodType) => ({
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } },
});

/** The OpenAPI 3.1 description of the `/v1` API. */
export function openApiDocument(): Record<string, unknown> {
  const ok = (description: string) => ({ description });
  const auth = [{ bearer: [] }];
  const refused = {
    '400': ok('invalid request'),
    '401': ok('missing or wrong token'),
    '404': ok('unknown version or run'),
    '409': ok('refused (already champion, nothing to roll back to)'),
  };
  const pathParam = (name: string) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  });
  const queryParams = (schema: z.ZodObject) =>
    Object.entries(
      (z.toJSONSchema(schema, { io: 'input' }) as { properties: object }).properties,
    ).map(([name, property]) => ({
      name,
      in: 'query',
      required: false,
      schema: property as object,
    }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'streamtrain orchestrator',
      version: '1',
      description:
        'Registry operations (list, show, promote, rollback, pin, export, audit), workflow runs and schedules.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: auth,
    paths: {
      '/v1/models/{model}/versions': {
        get: {
          summary: 'List versions, newest first, paged, filtered by status',
          parameters: [pathParam('model'), ...queryParams(VersionQuery)],
          responses: { '200': ok('{ total, versions }'), ...refused },
        },
      },
      '/v1/models/{model}/versions/{versionId}': {
        get: {
          summary: 'One version: metrics, gate decision, lineage, aliases, audit rows',
          parameters: [pathParam('model'), pathParam('versionId')],
          responses: { '200': ok('version detail'), ...refused },
        },
      },
      '/v1/models/{model}/versions/{versionId}/export': {
        get: {
          summary: 'tfjs model.json, weights (base64), normaliser and feature spec',
          parameters: [pathParam('model'), pathParam('versionId')],
          responses: {
            '200': ok(
              '{ "model.json", "weights.bin" (base64), "normaliser.json", "feature-spec.json" }',
            ),
            ...refused,
          },
        },
      },
      '/v1/models/{model}/promote': {
        post: {
          summary: 'Make a version champion (audited, announced on model.published)',
          parameters: [pathParam('model')],
          requestBody: json(PromoteBody),
          responses: { '200': ok('the champion change'), ...refused },
        },
      },
      '/v1/models/{model}/rollback': {
        post: {
          summary: 'Roll back to a named version or to the version the champion replaced',
          parameters: [pathParam('model')],
          requestBody: json(RollbackBody),
          responses: { '200': ok('the champion change'), ...refused },
        },
      },
      '/v1/models/{model}/pin': {
        post: {
          summary: 'Freeze automatic promotion',
          parameters: [pathParam('model')],
          requestBody: json(Reason),
          responses: { '200': ok('the pin'), ...refused },
        },
        delete: {
          summary: 'Let the gate promote again',
          parameters: [pathParam('model')],
          responses: { '200': ok('{ unpinned }'), ...refused },
        },
      },
      '/v1/models/{model}/audit': {
        get: {
          summary: 'Every alias change, newest first',
          parameters: [pathParam('model'), ...queryParams(Page)],
          responses: { '200': ok('{ changes }'), ...refused },
        },
      },
      '/v1/runs': {
        get: {
          summary: 'Run history: status, step timings, metrics, version, gate decision',
          parameters: queryParams(RunQuery),
          responses: { '200': ok('{ runs }'), ...refused },
        },
        post: {
          summary: 'Trigger a run (absorbed when one is already queued)',
          requestBody: json(TriggerBody),
          responses: { '202': ok('{ started, runId | reason }'), ...refused },
        },
      },
      '/v1/runs/{runId}': {
        get: {
          summary: 'One run with its steps',
          parameters: [pathParam('runId')],
          responses: { '200': ok('the run'), ...refused },
        },
      },
      '/v1/runs/{runId}/cancel': {
        post: {
          summary: 'Stop a run before its next step',
          parameters: [pathParam('runId')],
          responses: { '202': ok('{ status }'), ...refused },
        },
      },
      '/v1/workflows': {
        get: { summary: 'Workflows defined in code', responses: { '200': ok('{ workflows }') } },
      },
      '/v1/schedules': {
        get: {
          summary: 'Stored cron schedules and their next firings',
          responses: { '200': ok('{ schedules }') },
        },
      },
      '/v1/schedules/{workflow}': {
        put: {
          summary: 'Create or replace a schedule (no redeploy)',
          parameters: [pathParam('workflow')],
          requestBody: json(ScheduleBody),
          responses: { '200': ok('the schedule'), ...refused },
        },
        delete: {
          summary: 'Remove a schedule',
          parameters: [pathParam('workflow')],
          responses: { '200': ok('{ removed }'), ...refused },
        },
      },
    },
  };
}

/** Adds the token-authenticated `/v1` API and the open `/openapi.json` to the ops server. */
export function registerHttpApi(http: FastifyInstance, options: HttpApiOptions): void {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const current = () => {
    const operations = options.operations();
    if (operations === undefined) throw new Error('the orchestrator is still starting');
    return operations;
  };
  const models = () => current().models;
  const runs = () => current().runs;
  const document = openApiDocument();
  http.get('/openapi.json', () => document);
  http.register((api, _opts, done) => {
    api.addHook('onRequest', async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        await reply.code(401).send({ error: 'missing or wrong bearer token' });
      } else if (options.operations() === undefined) {
        await reply.code(503).send({ error: 'the orchestrator is starting: see /readyz' });
      }
    });
    const model = (request: FastifyRequest, reply: FastifyReply): boolean => {
      const { model: name } = request.params as { model: string };
      if (name === options.modelName) return true;
      void reply.code(404).send({ error: `this orchestrator serves model ${options.modelName}` });
      return false;
    };
    const handle =
      (fn: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          return await fn(request, reply);
        } catch (error) {
          return sendError(reply, error);
        }
      };
    api.get(
      '/v1/models/:model/versions',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        return models().list(VersionQuery.parse(request.query));
      }),
    );
    api.get(
      '/v1/models/:model/versions/:versionId',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        return models().show((request.params as { versionId: string }).versionId);
      }),
    );
    api.get(
      '/v1/models/:model/versions/:versionId/export',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        const exported = await models().export((request.params as { versionId: string }).versionId);
        return { ...exported, 'weights.bin': exported['weights.bin'].toString('base64') };
      }),
    );
    api.post(
      '/v1/models/:model/promote',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        const body = PromoteBody.parse(request.body ?? {});
        return models().promote(body.versionId, { actor: actorOf(request), reason: body.reason });
      }),
    );
    api.post(
      '/v1/models/:model/rollback',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        const body = RollbackBody.parse(request.body ?? {});
        return models().rollback(body.versionId ?? null, {
          actor: actorOf(request),
          reason: body.reason,
        });
      }),
    );
    api.post(
      '/v1/models/:model/pin',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        const body = Reason.parse(request.body ?? {});
        return models().pin({ actor: actorOf(request), reason: body.reason });
      }),
    );
    api.delete(
      '/v1/models/:model/pin',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        return {
          unpinned: await models().unpin({
            actor: actorOf(request),
            reason: 'unpinned over the API',
          }),
        };
      }),
    );
    api.get(
      '/v1/models/:model/audit',
      handle(async (request, reply) => {
        if (!model(request, reply)) return reply;
        return { changes: await models().audit(Page.parse(request.query).limit) };
      }),
    );
    api.get('/v1/workflows', () => ({ workflows: runs().workflows }));
    api.get(
      '/v1/runs',
      handle(async (request) => ({ runs: await runs().list(RunQuery.parse(request.query)) })),
    );
    api.post(
      '/v1/runs',
      handle(async (request, reply) => {
        const body = TriggerBody.parse(request.body ?? {});
        const outcome = await runs().trigger(
          body.workflow,
          { kind: 'manual', key: null, by: actorOf(request), reason: body.reason },
          body.params,
        );
        return reply.code(202).send(outcome);
      }),
    );
    api.get(
      '/v1/runs/:runId',
      handle(async (request, reply) => {
        const run = await runs().show((request.params as { runId: string }).runId);
        return run ?? reply.code(404).send({ error: 'no such run' });
      }),
    );
    api.post(
      '/v1/runs/:runId/cancel',
      handle(async (request, reply) => {
        const status = await runs().cancel((request.params as { runId: string }).runId);
        return status === null
          ? reply.code(404).send({ error: 'no such run' })
          : reply.code(202).send({ status, cancelRequested: true });
      }),
    );
    api.get(
      '/v1/schedules',
      handle(async () => ({ schedules: await runs().schedules() })),
    );
    api.put(
      '/v1/schedules/:workflow',
      handle(async (request) => {
        const body = ScheduleBody.parse(request.body ?? {});
        return runs().setSchedule(
          (request.params as { workflow: string }).workflow,
          body.cron,
          body.timezone,
        );
      }),
    );
    api.delete(
      '/v1/schedules/:workflow',
      handle(async (request) => {
        await runs().removeSchedule((request.params as { workflow: string }).workflow);
        return { removed: true };
      }),
    );
    done();
  });
}
