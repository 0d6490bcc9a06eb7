import { decodeFraudLabel, decodeTransaction } from '@streamtrain/contracts';
import { toFeatureInput } from '@streamtrain/features';
import type { BatchHandler } from '@streamtrain/kafka';
import type { OnlineFeatureState } from '../domain/feature-state';
import type { LiveQuality } from '../domain/live-quality';

/** What the state feed needs. */
export interface StateFeedDeps {
  state: OnlineFeatureState;
  quality: LiveQuality;
  labelsTopic: string;
}

/**
 * Keeps the online state current from every partition of the transaction and label topics, not
 * only the partitions this instance scores: a terminal's history spans all cards, hence all
 * partitions. Each instance reads in a group of its own and commits as it goes (so an instance
 * restarted under the same `SCORER_INSTANCE_ID` resumes); bad messages are skipped, as ingest
 * dead-letters them.
 */
export function createStateFeed(deps: StateFeedDeps): BatchHandler {
  return async (batch, control) => {
    if (batch.topic === deps.labelsTopic) {
      for (const message of batch.messages) {
        const decoded = decodeFraudLabel(message.value);
        if (!decoded.ok) continue;
        const label = {
          transactionId: decoded.value.transactionId,
          isFraud: decoded.value.isFraud,
          reportedAtMs: Date.parse(decoded.value.reportedAt),
        };
        deps.state.addLabel(label);
        deps.quality.recordLabel(label);
      }
    } else {
      let newest = Number.NEGATIVE_INFINITY;
      for (const message of batch.messages) {
        const decoded = decodeTransaction(message.value);
        if (!decoded.ok) continue;
        const input = toFeatureInput(decoded.value);
        deps.state.addTransaction(input);
        newest = Math.max(newest, input.eventTimeMs);
      }
      if (newest > Number.NEGATIVE_INFINITY) deps.quality.advance(newest);
    }
    const last = batch.messages[batch.messages.length - 1];
    if (last !== undefined && !control.isStale()) await control.commit(last.offset);
  };
}
