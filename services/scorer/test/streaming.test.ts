import { FraudScoreV1 } from '@streamtrain/contracts';
import { computeFeatures, toFeatureInput } from '@streamtrain/features';
import { readMessages, waitFor } from '@streamtrain/testkit';
import { createScorerHarness, transactions } from './scorer-harness';
import type { ScorerHarness } from './scorer-harness';

jest.setTimeout(120_000);

const START_MS = Date.parse('2018-04-01T00:00:00Z');

describe('scorer: the stream', () => {
  let harness: ScorerHarness;

  beforeAll(async () => {
    harness = await createScorerHarness();
  });

  afterAll(async () => {
    await harness.dispose();
  });

  it('when transactions stream in, then each gets one score on the scores topic, keyed like its input, from the champion, with the features of the one feature definition; a second scorer re-scores them to the same values', async () => {
    const champion = await harness.promote(7, false);
    const scorer = await harness.startScorer();
    expect(scorer.serving()?.versionId).toBe(champion.versionId);
    const feed = transactions(300, START_MS);
    const kafka = harness.topics.kafka;
    const producer = await kafka.producer();
    await producer.send(harness.topics.names['tx.web'] as string, [
      ...feed.map((tx) => ({ key: tx.customerId, value: JSON.stringify(tx) })),
      { key: 'x', value: '{"not":"a tx"}' },
    ]);
    await producer.disconnect();

    const messages = await readMessages(
      kafka,
      harness.topics.names['tx.scores'] as string,
      feed.length,
    );
    const scores = messages.map((message) =>
      FraudScoreV1.parse(JSON.parse(message.value?.toString() ?? '')),
    );
    expect(new Set(scores.map((score) => score.transactionId))).toEqual(
      new Set(feed.map((tx) => tx.transactionId)),
    );
    const byId = new Map(feed.map((tx) => [tx.transactionId, tx]));
    const expected = new Map(
      computeFeatures(feed.map(toFeatureInput), feed.map(toFeatureInput), []).map((v) => [
        v.transactionId,
        v.values,
      ]),
    );
    for (const [i, score] of scores.entries()) {
      expect(messages[i]?.key?.toString()).toBe(byId.get(score.transactionId)?.customerId);
      expect(score.modelVersionId).toBe(champion.versionId);
      expect(score.threshold).toBe(0.5);
      expect(score.exceeded).toBe(score.score >= 0.5);
      expect(score.latencyMs).toBeGreaterThanOrEqual(0);
      expect(score.features).toEqual(expected.get(score.transactionId));
    }

    // Another group re-reads the same topic from the start, as after a crash before a commit.
    const second = await harness.startScorer();
    expect(second.serving()?.versionId).toBe(champion.versionId);
    const again = await readMessages(
      kafka,
      harness.topics.names['tx.scores'] as string,
      2 * feed.length,
    );
    const first = new Map(scores.map((score) => [score.transactionId, score]));
    for (const message of again) {
      const score = FraudScoreV1.parse(JSON.parse(message.value?.toString() ?? ''));
      expect(score.score).toBe(first.get(score.transactionId)?.score);
      expect(score.features).toEqual(first.get(score.transactionId)?.features);
    }
    const metrics = await waitFor(
      async () => (await fetch(`http://127.0.0.1:${scorer.port()}/metrics`)).text(),
      (text) => text.includes('streamtrain_scorer_skipped_total{reason="CONTRACT_UNKNOWN_VERSION"'),
    );
    expect(metrics).toMatch(
      /streamtrain_scorer_scored_total\{path="stream",service="scorer"\} 300/,
    );
  });

  it('when one fetch holds more scores than the broker takes in one request, then they are sent in several and all arrive', async () => {
    await harness.promote(8, false);
    // Produced before the scorer starts, so its first fetch of the partition is a full megabyte.
    const feed = transactions(8_000, START_MS, 10_000);
    const kafka = harness.topics.kafka;
    const producer = await kafka.producer();
    const topic = harness.topics.names['tx.web'] as string;
    for (let i = 0; i < feed.length; i += 2_000) {
      await producer.send(
        topic,
        feed
          .slice(i, i + 2_000)
          .map((tx) => ({ key: 'one-key', value: JSON.stringify(tx), partition: 0 })),
      );
    }
    await producer.disconnect();
    const scorer = await harness.startScorer();
    const scored = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${scorer.port()}/metrics`)).text();
      return Number(
        /streamtrain_scorer_scored_total\{path="stream"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    await waitFor(scored, (n) => n >= 300 + feed.length, {
      timeoutMs: 60_000,
      description: 'every transaction scored',
    });
  });
});
