import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { assertIdentifier, inTransaction } from './pool';

/** The outbox tables, one per owning service. */
export type OutboxTable = 'ingest_outbox' | 'pipeline_outbox' | 'trainer_outbox';

/** An event waiting in an outbox. */
export interface OutboxEvent {
  eventId: string;
  routingKey: string;
  payload: unknown;
}

/**
 * Adds an event to the outbox inside the caller's transaction, so the event exists if and only
 * if the data it announces was committed. A second insert of the same id does nothing.
 */
export async function enqueueOutbox(
  client: PoolClient,
  table: OutboxTable,
  event: OutboxEvent,
): Promise<void> {
  await client.query(
    `INSERT INTO ${assertIdentifier(table)} (event_id, routing_key, payload) VALUES ($1, $2, $3)
     ON CONFLICT (event_id) DO NOTHING`,
    [event.eventId, event.routingKey, JSON.stringify(event.payload)],
  );
}

/** Enqueues several events in one statement (see {@link enqueueOutbox}). */
export async function enqueueOutboxEvents(
  client: PoolClient,
  table: OutboxTable,
  events: readonly OutboxEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await client.query(
    `INSERT INTO ${assertIdentifier(table)} (event_id, routing_key, payload)
     SELECT id, key, payload FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY
       AS e(id, key, payload, position)
     ORDER BY position
     ON CONFLICT (event_id) DO NOTHING`,
    [
      events.map((event) => event.eventId),
      events.map((event) => event.routingKey),
      events.map((event) => JSON.stringify(event.payload)),
    ],
  );
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  pool: Pool;
  table: OutboxTable;
  /** Publishes one event and resolves once the broker confirmed it. */
  publish: (event: OutboxEvent) => Promise<void>;
  logger: Logger;
  /** Poll interval when idle. @default 200 */
  pollIntervalMs?: number;
  /** Events claimed per round. @default 100 */
  batchSize?: number;
  /** Told the number published each round, for metrics. */
  onPublished?: (count: number) => void;
  onError?: (error: unknown) => void;
}

/**
 * Relays outbox rows to the broker: claims unpublished rows with `FOR UPDATE SKIP LOCKED` (so
 * several instances share the work), publishes each with confirms, and marks it published in the
 * same transaction. A crash between the confirm and the commit republishes the event; consumers
 * drop it by its id. Nothing is lost.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private current: Promise<void> = Promise.resolve();
  private wakeRequested = false;
  private failures = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  /** Starts polling. */
  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Asks for a round now (after a commit that enqueued an event) rather than at the next poll. */
  wake(): void {
    if (!this.running) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.schedule(0);
    } else {
      this.wakeRequested = true;
    }
  }

  /** Publishes everything pending, once. Returns how many were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.round();
      total += published;
      if (published === 0) return total;
    }
  }

  /** Stops polling after the round in hand. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.loop();
    }, delayMs);
  }

  private async loop(): Promise<void> {
    let published = 0;
    try {
      published = await this.round();
    } catch (error) {
      this.options.logger.warn(
        { err: error, table: this.options.table },
        'outbox relay round failed; will retry',
      );
      this.options.onError?.(error);
    }
    if (!this.running) return;
    const again = published > 0 || this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : (this.options.pollIntervalMs ?? 200));
  }

  private async round(): Promise<number> {
    const table = assertIdentifier(this.options.table);
    return inTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<{
        id: string;
        event_id: string;
        routing_key: string;
        payload: unknown;
      }>(
        `SELECT id, event_id, routing_key, payload FROM ${table}
         WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize ?? 100],
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) =>
          this.options.publish({
            eventId: row.event_id,
            routingKey: row.routing_key,
            payload: row.payload,
          }),
        ),
      );
      await client.query(`UPDATE ${table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((row) => row.id),
      ]);
      this.options.onPublished?.(rows.length);
      return rows.length;
    });
  }
}
