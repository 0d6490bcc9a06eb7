import { decodeTransaction } from '@streamtrain/contracts';
import type { FraudScore, Transaction } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, toFeatureInput } from '@streamtrain/features';
import type { FeatureInput } from '@streamtrain/features';
import type { BatchHandler, KafkaProducer, OutgoingMessage } from '@streamtrain/kafka';
import type { Logger } from '@streamtrain/observability';
import type { OnlineFeatureState } from '../domain/feature-state';
import type { LiveQuality } from '../domain/live-quality';
import type { ScorerMetrics } from '../adapters/scorer-metrics';
import type { TransactionScorer } from '../scoring/transaction-scorer';

/** What the stream scorer needs. */
export interface StreamScorerDeps {
  state: OnlineFeatureState;
  scorer: TransactionScorer;
  quality: LiveQuality;
  producer: KafkaProducer;
  scoresTopic: string;
  /** Transactions scored between yields to the event loop. */
  chunkSize: number;
  /**
   * Most bytes of scores in one produce request. A score is about three times its transaction
   * (it carries the features), so a full fetch of transactions makes more than the broker's
   * largest request (`message.max.bytes`, 1 MiB by default) would take.
   */
  maxRequestBytes: number;
  metrics: ScorerMetrics;
  logger: Logger;
  /** Told the latest event time scored, to bound the state's history. */
  onProgress: (eventTimeMs: number) => void;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Scores each batch of a transaction topic partition: the transactions join the online state,
 * are scored with the champion, and their scores go to the scores topic keyed like the input.
 * The batch's offset is committed only after Kafka acknowledged every score (acks = all), so a
 * crash re-scores, and the same transaction gets the same features and, from the same version,
 * the same score. A message that breaks the contract is skipped and counted: ingest
 * dead-letters it with its reason.
 */
export function createStreamScorer(deps: StreamScorerDeps): BatchHandler {
  return async (batch, control) => {
    const received = performance.now();
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    const rows: { key: Buffer | null; tx: Transaction; input: FeatureInput }[] = [];
    for (const message of batch.messages) {
      const decoded = decodeTransaction(message.value);
      if (!decoded.ok) {
        deps.metrics.skipped.inc({ reason: decoded.code });
        continue;
      }
      const input = toFeatureInput(decoded.value);
      deps.state.addTransaction(input);
      rows.push({ key: message.key, tx: decoded.value, input });
    }
    const out: OutgoingMessage[] = [];
    let newest = Number.NEGATIVE_INFINITY;
    for (let start = 0; start < rows.length; start += deps.chunkSize) {
      if (start > 0) {
        await yieldToEventLoop();
        // Stopping or revoked: drop the rest, uncommitted, for whoever scores it next.
        if (control.isStale()) return;
        // A long batch on a busy machine must not cost the group membership.
        await control.heartbeat();
      }
      const chunk = rows.slice(start, start + deps.chunkSize);
      const endTimer = deps.metrics.scoreSeconds.startTimer({ path: 'stream' });
      const scored = deps.scorer.score(chunk.map((row) => row.input));
      endTimer();
      // The consumer starts only once a champion is loaded, and a champion is never unloaded.
      if (scored === undefined) throw new Error('stream scoring started without a champion');
      const latencyMs = performance.now() - received;
      const scoredAt = new Date().toISOString();
      scored.scores.forEach((score, i) => {
        const row = chunk[i] as (typeof chunk)[number];
        const message: FraudScore = {
          schemaVersion: 1,
          transactionId: score.transactionId,
          score: score.score,
          modelVersionId: scored.model.versionId,
          modelVersion: scored.model.version,
          threshold: scored.threshold,
          exceeded: score.exceeded,
          eventTime: row.tx.eventTime,
          featureSetVersion: FEATURE_SET_VERSION,
          features: [...score.features],
          latencyMs: Math.round(latencyMs * 1000) / 1000,
          scoredAt,
        };
        out.push({ key: row.key, value: JSON.stringify(message) });
        newest = Math.max(newest, row.input.eventTimeMs);
        deps.quality.recordServed({
          transactionId: score.transactionId,
          customerId: row.input.customerId,
          eventTimeMs: row.input.eventTimeMs,
          score: score.score,
          modelVersionId: scored.model.versionId,
          modelVersion: scored.model.version,
        });
      });
    }
    // A revoked partition's new owner scores these again; committing here could skip them.
    if (control.isStale()) return;
    let request: OutgoingMessage[] = [];
    let bytes = 0;
    for (const message of out) {
      const size = (message.value?.length ?? 0) + 64;
      if (request.length > 0 && bytes + size > deps.maxRequestBytes) {
        await deps.producer.send(deps.scoresTopic, request);
        await control.heartbeat();
        request = [];
        bytes = 0;
      }
      request.push(message);
      bytes += size;
    }
    await deps.producer.send(deps.scoresTopic, request);
    deps.metrics.scored.inc({ path: 'stream' }, out.length);
    await control.commit(last.offset);
    if (newest > Number.NEGATIVE_INFINITY) deps.onProgress(newest);
  };
}
