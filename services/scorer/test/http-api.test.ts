import { waitFor } from '@streamtrain/testkit';
import { TOKEN, createScorerHarness, transactions } from './scorer-harness';
import type { ScorerHarness } from './scorer-harness';
import type { ScorerService } from '../src/service';

jest.setTimeout(120_000);

const START_MS = Date.parse('2018-04-01T00:00:00Z');

describe('scorer: the HTTP API', () => {
  let harness: ScorerHarness;
  let scorer: ScorerService;
  let url: string;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const post = (body: unknown, headers: Record<string, string> = auth): Promise<Response> =>
    fetch(`${url}/v1/score`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    harness = await createScorerHarness();
    scorer = await harness.startScorer({ SCORER_HTTP_MAX_BATCH: '100' });
    url = `http://127.0.0.1:${scorer.port()}`;
  });

  afterAll(async () => {
    await harness.dispose();
  });

  it('when no champion exists yet, then the scorer is not ready and scoring answers 503', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const response = await post(transactions(1, START_MS)[0]);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'NO_CHAMPION' });
  });

  it('when a request has no token or a wrong one, then it is refused with 401', async () => {
    const tx = transactions(1, START_MS)[0];
    const none = await post(tx, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { message: string }).message).toMatch(/missing bearer token/);
    const wrong = await post(tx, { ...auth, authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${url}/v1/model`)).status).toBe(401);
  });

  it('when a champion is published, then single and batch requests are scored by it and /v1/model names it', async () => {
    const champion = await harness.promote(11);
    await waitFor(
      () => fetch(`${url}/readyz`).then((r) => r.status),
      (status) => status === 200,
      { description: 'ready once the champion is loaded' },
    );
    const [one, ...rest] = transactions(20, START_MS);
    const single = await post(one);
    expect(single.status).toBe(200);
    const body = (await single.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      transactionId: one?.transactionId,
      modelVersionId: champion.versionId,
      modelVersion: champion.version,
      threshold: 0.5,
    });
    expect(typeof body.score).toBe('number');

    const batch = await post({ transactions: rest });
    expect(batch.status).toBe(200);
    const scored = (await batch.json()) as {
      modelVersionId: string;
      scores: { transactionId: string }[];
    };
    expect(scored.modelVersionId).toBe(champion.versionId);
    expect(scored.scores.map((s) => s.transactionId)).toEqual(rest.map((tx) => tx.transactionId));

    const model = await fetch(`${url}/v1/model`, { headers: auth });
    expect(await model.json()).toMatchObject({
      modelVersionId: champion.versionId,
      threshold: 0.5,
    });
    const quality = await fetch(`${url}/v1/quality`, { headers: auth });
    expect(quality.status).toBe(200);
  });

  it('when a body is malformed, then the 4xx answer says what is wrong', async () => {
    const tx = transactions(1, START_MS)[0];
    const badField = await post({ ...tx, amount: -5, extra: 1 });
    expect(badField.status).toBe(400);
    const message = ((await badField.json()) as { message: string }).message;
    expect(message).toMatch(/amount/);
    expect(message).toMatch(/extra/);
    const badJson = await post('{"transactionId": ');
    expect(badJson.status).toBe(400);
    const tooMany = await post({ transactions: transactions(101, START_MS) });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { message: string }).message).toMatch(/100 transactions/);
    const empty = await post({ transactions: [] });
    expect(empty.status).toBe(400);
  });

  it('when /openapi.json is fetched, then it describes the scoring routes and their bearer auth', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/score', '/v1/model', '/v1/quality']),
    );
    expect(doc.components.securitySchemes.bearer).toBeDefined();
  });

  it('when a new champion is published under continuous load, then no request fails, each names one version, and the new one takes over', async () => {
    const before = scorer.serving()?.versionId;
    const feed = transactions(50, START_MS);
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let running = true;
    const client = async (worker: number): Promise<void> => {
      for (let i = worker; running; i += 4) {
        const response =
          i % 2 === 0
            ? await post(feed[i % feed.length])
            : await post({ transactions: feed.slice(0, 10 + (i % 40)) });
        if (response.status !== 200) {
          failures.push(`${response.status} ${await response.text()}`);
          continue;
        }
        const body = (await response.json()) as { modelVersionId?: string };
        if (body.modelVersionId === undefined) failures.push('no version named');
        else seen.set(body.modelVersionId, (seen.get(body.modelVersionId) ?? 0) + 1);
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));
    await waitFor(
      () => seen.get(before ?? '') ?? 0,
      (n) => n > 50,
    );
    const next = await harness.promote(12);
    await waitFor(
      () => seen.get(next.versionId) ?? 0,
      (n) => n > 50,
      {
        description: 'responses from the new champion',
      },
    );
    running = false;
    await load;
    expect(failures).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([before, next.versionId].sort());
    expect(scorer.serving()?.versionId).toBe(next.versionId);
  });
});
