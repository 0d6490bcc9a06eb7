import type { KafkaProducer } from '@streamtrain/kafka';
import type { KeyedMessage, SendBatch } from '@streamtrain/simulator';

/** When each transaction and each label was in Kafka (acknowledged by the broker), in ms. */
export class ProduceLog {
  readonly transactions = new Map<string, number>();
  /** By the labelled transaction's id. */
  readonly labels = new Map<string, number>();

  /**
   * A `send` for `publishEvents` that produces through `producer` and notes, for every message,
   * the wall time the broker acknowledged it.
   */
  sender(producer: KafkaProducer, labelsTopic: string): SendBatch {
    return async (topic: string, messages: KeyedMessage[]) => {
      await producer.send(topic, messages);
      const now = Date.now();
      const into = topic === labelsTopic ? this.labels : this.transactions;
      for (const message of messages) {
        const { transactionId } = JSON.parse(message.value) as { transactionId: string };
        into.set(transactionId, now);
      }
    };
  }
}
