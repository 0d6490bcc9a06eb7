import { FraudScoreV1 } from '@streamtrain/contracts';
import { readMessages, uniqueName, waitFor } from '@streamtrain/testkit';
import { createScorerHarness, TOKEN, transactions } from './scorer-harness';
import type { ScorerHarness } from './scorer-harness';

jest.setTimeout(120_000);

const START_MS = Date.parse('2018-05-01T00:00:00Z');

async function scoredOnStream(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/streamtrain_scorer_scored_total\{path="stream"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe('scorer: several instances side by side', () => {
  let harness: ScorerHarness;

  beforeAll(async () => {
    harness = await createScorerHarness();
  });

  afterAll(async () => {
    await harness.dispose();
  });

  it('when two instances share a consumer group, then they split the partitions, every transaction is scored, and either answers HTTP from the same champion', async () => {
    const champion = await harness.promote(11, false);
    const group = uniqueName('scorer-group');
    const first = await harness.startScorer({ SCORER_GROUP_ID: group });
    const second = await harness.startScorer({ SCORER_GROUP_ID: group });
    // Both joined: the four partitions of the topic are shared, none twice.
    const assigned = await waitFor(
      () => Promise.resolve([first.assignment(), second.assignment()]),
      (both) =>
        both.every((a) => Object.values(a).flat().length > 0) &&
        both.reduce((n, a) => n + Object.values(a).flat().length, 0) === 4,
      { timeoutMs: 60_000, description: 'both instances assigned partitions' },
    );
    const partitions = assigned.flatMap((a) => Object.values(a).flat());
    expect(new Set(partitions).size).toBe(4);

    const feed = transactions(400, START_MS);
    const producer = await harness.topics.kafka.producer();
    await producer.send(
      harness.topics.names['tx.web'] as string,
      feed.map((tx) => ({ key: tx.customerId, value: JSON.stringify(tx) })),
    );
    await producer.disconnect();

    const messages = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.scores'] as string,
      feed.length,
    );
    const scores = messages.map((m) => FraudScoreV1.parse(JSON.parse(m.value?.toString() ?? '')));
    expect(new Set(scores.map((s) => s.transactionId))).toEqual(
      new Set(feed.map((tx) => tx.transactionId)),
    );
    expect(scores.every((s) => s.modelVersionId === champion.versionId)).toBe(true);
    const [byFirst, bySecond] = await Promise.all([
      scoredOnStream(first.port()),
      scoredOnStream(second.port()),
    ]);
    expect(byFirst).toBeGreaterThan(0);
    expect(bySecond).toBeGreaterThan(0);
    expect(byFirst + bySecond).toBe(feed.length);

    // Any instance answers HTTP, from the same version.
    const body = JSON.stringify(feed[feed.length - 1]);
    const answers = await Promise.all(
      [first, second].map(async (instance) => {
        const response = await fetch(`http://127.0.0.1:${instance.port()}/v1/score`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body,
        });
        expect(response.status).toBe(200);
        return (await response.json()) as { modelVersionId: string; score: number };
      }),
    );
    expect(answers.map((a) => a.modelVersionId)).toEqual([champion.versionId, champion.versionId]);
  });
});
