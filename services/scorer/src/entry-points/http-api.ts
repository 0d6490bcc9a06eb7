import { createHash, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import { FraudScoreV1, TransactionV1 } from '@streamtrain/contracts';
import { featureNames, toFeatureInput } from '@streamtrain/features';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Champion } from '../adapters/champion';
import type { ScorerMetrics } from '../adapters/scorer-metrics';
import type { LiveQuality } from '../domain/live-quality';
import type { TransactionScorer } from '../scoring/transaction-scorer';

/** What the scoring API needs. */
export interface HttpApiDeps {
  scorer: TransactionScorer;
  champion: Champion;
  quality: LiveQuality;
  token: string;
  maxBatch: number;
  metrics: ScorerMetrics;
}

/** Bytes a request may carry: room for `maxBatch` transactions of the largest plausible size. */
function bodyLimitFor(maxBatch: number): number {
  return Math.max(64 * 1024, maxBatch * 512);
}

const BatchRequest = (maxBatch: number) =>
  z.strictObject({
    transactions: z
      .array(TransactionV1)
      .min(1, 'must hold at least one transaction')
      .max(maxBatch, `holds more than the ${maxBatch} transactions a batch may have`),
  });

const ErrorBody = z.object({ error: z.string(), message: z.string() });

const SingleResponse = FraudScoreV1.pick({
  transactionId: true,
  score: true,
  exceeded: true,
  threshold: true,
  modelVersionId: true,
  modelVersion: true,
}).extend({ latencyMs: z.number() });

const BatchResponse = z.object({
  modelVersionId: z.string(),
  modelVersion: z.number().int(),
  threshold: z.number(),
  latencyMs: z.number(),
  scores: z.array(FraudScoreV1.pick({ transactionId: true, score: true, exceeded: true })),
});

const json = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' });

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The scoring API: `POST /v1/score` (one transaction, or `{ transactions: [...] }` up to
 * `maxBatch`), `GET /v1/model`, `GET /v1/quality`, each behind the bearer token; the OpenAPI
 * description at `/openapi.json`. Bodies are checked with the same zod contract as the stream, and
 * a refusal says what is wrong. HTTP scoring reads the online state but never adds to it: the
 * stream is the record of what happened, a request only asks what a transaction would score.
 */
export async function registerHttpApi(http: FastifyInstance, deps: HttpApiDeps): Promise<void> {
  await http.register(swagger, {
    hideUntagged: true,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'streamtrain scorer',
        version: '1',
        description:
          'Fraud scores from the current champion model, with the features the model was trained on.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  const expected = digest(deps.token);
  const batchRequest = BatchRequest(deps.maxBatch);

  http.get('/openapi.json', { schema: { hide: true } }, () => http.swagger());

  await http.register((api, _options, done) => {
    // Refusals a client caused (bad JSON, too large, wrong media type) keep their 4xx status.
    api.setErrorHandler(
      (error: Error & { statusCode?: number; code?: string }, _request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 400 && status < 500) {
          return reply
            .code(status)
            .send({ error: error.code ?? 'BAD_REQUEST', message: error.message });
        }
        throw error;
      },
    );
    api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer (.+)$/.exec(header);
      if (match === null || !timingSafeEqual(digest(match[1] as string), expected)) {
        deps.metrics.httpRequests.inc({
          route: request.routeOptions.url ?? 'unknown',
          status: 401,
        });
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({
            error: 'UNAUTHORIZED',
            message:
              match === null
                ? 'missing bearer token (Authorization: Bearer <token>)'
                : 'wrong token',
          });
      }
    });
    api.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode !== 401) {
        deps.metrics.httpRequests.inc({
          route: request.routeOptions.url ?? 'unknown',
          status: reply.statusCode,
        });
      }
    });
    // Bodies are checked by zod below, for its messages; the JSON Schemas are for the document
    // only, so neither ajv nor fast-json-stringify is compiled from them.
    const noAjv = {
      validatorCompiler: () => () => true,
      serializerCompiler: () => (data: unknown) => JSON.stringify(data),
    };

    api.post(
      '/v1/score',
      {
        bodyLimit: bodyLimitFor(deps.maxBatch),
        ...noAjv,
        schema: {
          tags: ['scoring'],
          summary: `Scores one transaction, or a batch of up to ${deps.maxBatch}`,
          body: { oneOf: [json(TransactionV1), json(batchRequest)] },
          response: {
            200: { oneOf: [json(SingleResponse), json(BatchResponse)] },
            400: json(ErrorBody),
            401: json(ErrorBody),
            413: json(ErrorBody),
            503: json(ErrorBody),
          },
        },
      },
      async (request, reply) => {
        const started = performance.now();
        const body = request.body;
        const isBatch = typeof body === 'object' && body !== null && 'transactions' in body;
        const parsed = isBatch ? batchRequest.safeParse(body) : TransactionV1.safeParse(body);
        if (!parsed.success) {
          return reply
            .code(400)
            .send({ error: 'INVALID_REQUEST', message: formatIssues(parsed.error) });
        }
        const transactions =
          'transactions' in parsed.data ? parsed.data.transactions : [parsed.data];
        const endTimer = deps.metrics.scoreSeconds.startTimer({ path: 'http' });
        const scored = deps.scorer.score(transactions.map(toFeatureInput));
        endTimer();
        if (scored === undefined) {
          return reply
            .code(503)
            .send({ error: 'NO_CHAMPION', message: 'no champion model is loaded yet' });
        }
        deps.metrics.scored.inc({ path: 'http' }, scored.scores.length);
        const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
        const head = {
          modelVersionId: scored.model.versionId,
          modelVersion: scored.model.version,
          threshold: scored.threshold,
          latencyMs,
        };
        if (!isBatch) {
          const only = scored.scores[0];
          return {
            transactionId: only?.transactionId,
            score: only?.score,
            exceeded: only?.exceeded,
            ...head,
          };
        }
        return {
          ...head,
          scores: scored.scores.map(({ transactionId, score, exceeded }) => ({
            transactionId,
            score,
            exceeded,
          })),
        };
      },
    );

    api.get(
      '/v1/model',
      {
        ...noAjv,
        schema: {
          tags: ['registry'],
          summary: 'The model version serving, and its holdout metrics',
        },
      },
      async (_request, reply) => {
        const serving = deps.champion.serving;
        if (serving === undefined) {
          return reply
            .code(503)
            .send({ error: 'NO_CHAMPION', message: 'no champion model is loaded yet' });
        }
        return {
          modelName: serving.modelName,
          modelVersionId: serving.versionId,
          modelVersion: serving.version,
          loadedAt: serving.loadedAt,
          threshold: deps.scorer.threshold,
          featureNames: featureNames(),
          holdoutMetrics: serving.record.metrics,
          trainedSamples: serving.record.trainedSamples,
          createdAt: serving.record.createdAt,
        };
      },
    );

    api.get(
      '/v1/quality',
      {
        ...noAjv,
        schema: {
          tags: ['quality'],
          summary: 'Live quality per model version: the served scores joined with matured labels',
        },
      },
      () => ({ pending: deps.quality.pendingCount, versions: deps.quality.report() }),
    );
    done();
  });
}
