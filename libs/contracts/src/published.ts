import { z } from 'zod';
import { DEAD_LETTER_HEADERS } from './dead-letter';
import { MAX_MESSAGE_BYTES } from './decode';
import { BatchArrivedV1, FeaturesReadyV1, ModelPublishedV1, ROUTING_KEYS } from './events';
import { FraudScoreV1 } from './score';
import { DEFAULT_NAMES, transactionTopic } from './topics';
import { CHANNELS, FraudLabelV1, TransactionV1 } from './transaction';

/** One published message version: its name, the file its JSON Schema goes to, and the schema. */
export interface PublishedMessage {
  /** e.g. `TransactionV1`. */
  name: string;
  /** e.g. `transaction.v1.schema.json`. */
  file: string;
  summary: string;
  schema: z.ZodType;
}

/** Every message version on the wire, newest last within a kind. A version, once here, is frozen. */
export const PUBLISHED_MESSAGES: readonly PublishedMessage[] = [
  {
    name: 'TransactionV1',
    file: 'transaction.v1.schema.json',
    summary: 'A card transaction from a source channel.',
    schema: TransactionV1,
  },
  {
    name: 'FraudLabelV1',
    file: 'fraud-label.v1.schema.json',
    summary: 'A fraud verdict on an earlier transaction (chargeback, analyst), days late.',
    schema: FraudLabelV1,
  },
  {
    name: 'FraudScoreV1',
    file: 'fraud-score.v1.schema.json',
    summary: "The scorer's fraud score of one transaction, with the model version and threshold.",
    schema: FraudScoreV1,
  },
  {
    name: 'BatchArrivedV1',
    file: 'batch-arrived.v1.schema.json',
    summary: 'Ingest committed a warehouse batch.',
    schema: BatchArrivedV1,
  },
  {
    name: 'FeaturesReadyV1',
    file: 'features-ready.v1.schema.json',
    summary: "The pipeline stored a batch's features and newly matured examples.",
    schema: FeaturesReadyV1,
  },
  {
    name: 'ModelPublishedV1',
    file: 'model-published.v1.schema.json',
    summary: 'The trainer promoted a model version to champion.',
    schema: ModelPublishedV1,
  },
];

/**
 * The JSON Schema (draft 2020-12) of a message as a producer may send it. Input mode: unknown
 * properties are allowed, because consumers accept and drop them (docs/CONTRACTS.md).
 */
export function jsonSchemaOf(message: PublishedMessage): Record<string, unknown> {
  return z.toJSONSchema(message.schema, { io: 'input', target: 'draft-2020-12' });
}

const SCHEMA_FORMAT = 'application/schema+json;version=draft-2020-12';

function payloadOf(name: string): Record<string, unknown> {
  const message = PUBLISHED_MESSAGES.find((candidate) => candidate.name === name);
  if (message === undefined) throw new Error(`no published message ${name}`);
  const { $schema: _dialect, ...schema } = jsonSchemaOf(message);
  return { schemaFormat: SCHEMA_FORMAT, schema };
}

const kafkaKey = (description: string): Record<string, unknown> => ({
  kafka: { key: { type: 'string', description }, bindingVersion: '0.5.0' },
});

const amqpChannel = (routingKey: string): Record<string, unknown> => ({
  amqp: {
    is: 'routingKey',
    exchange: { name: DEFAULT_NAMES.exchange, type: 'topic', durable: true, autoDelete: false },
    bindingVersion: '0.3.0',
  },
  // The routing key is the channel's address; named here too for readers of the binding only.
  'x-routing-key': routingKey,
});

const limits =
  `JSON (UTF-8), at most ${MAX_MESSAGE_BYTES} bytes; larger, unparsable or invalid messages go ` +
  `to ${DEFAULT_NAMES.deadLetterTopic} with their reason. Unknown fields are accepted and dropped.`;

/** The AsyncAPI 3.0 document of every topic and event, built from the schemas above. */
export function asyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const channel of CHANNELS) {
    const id = `tx${channel[0]?.toUpperCase() ?? ''}${channel.slice(1)}`;
    channels[id] = {
      address: transactionTopic(channel),
      title: `Transactions from the ${channel} channel`,
      description: `Key: the customer id (keeps a card's transactions in order). ${limits}`,
      servers: [{ $ref: '#/servers/kafka' }],
      messages: { transaction: { $ref: '#/components/messages/TransactionV1' } },
    };
    operations[`ingest${id[0]?.toUpperCase() ?? ''}${id.slice(1)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      summary: 'Ingest validates, stores idempotently by transactionId, and announces batches.',
      messages: [{ $ref: `#/channels/${id}/messages/transaction` }],
    };
  }
  channels.txLabels = {
    address: DEFAULT_NAMES.labelsTopic,
    title: 'Fraud labels',
    description: `Key: the transaction id. ${limits}`,
    servers: [{ $ref: '#/servers/kafka' }],
    messages: { label: { $ref: '#/components/messages/FraudLabelV1' } },
  };
  operations.ingestTxLabels = {
    action: 'receive',
    channel: { $ref: '#/channels/txLabels' },
    summary: 'Ingest stores each label once (a later correction for the same id is a conflict).',
    messages: [{ $ref: '#/channels/txLabels/messages/label' }],
  };
  channels.txScores = {
    address: DEFAULT_NAMES.scoresTopic,
    title: 'Fraud scores',
    description:
      'Key: the customer id, as on the scored transaction. One score per scored transaction, ' +
      "published before the scorer commits the transaction's offset: after a crash a " +
      'transaction can be scored again, with the same content, so consumers dedupe by ' +
      '`transactionId`. JSON (UTF-8); unknown fields are accepted and dropped. Topic name: ' +
      '`SCORER_SCORES_TOPIC`.',
    servers: [{ $ref: '#/servers/kafka' }],
    messages: { score: { $ref: '#/components/messages/FraudScoreV1' } },
  };
  operations.scorerPublishesTxScores = {
    action: 'send',
    channel: { $ref: '#/channels/txScores' },
    summary: 'The scorer scores each transaction of tx.<channel> with the champion model.',
    messages: [{ $ref: '#/channels/txScores/messages/score' }],
  };
  channels.txDlq = {
    address: DEFAULT_NAMES.deadLetterTopic,
    title: 'Dead letters',
    description:
      'Messages ingest refused: the value is the original bytes, unchanged, the key the ' +
      'original key; the headers say why and where from. Re-drive with `streamtrain-redrive`.',
    servers: [{ $ref: '#/servers/kafka' }],
    messages: { deadLetter: { $ref: '#/components/messages/DeadLetter' } },
  };
  operations.deadLetter = {
    action: 'send',
    channel: { $ref: '#/channels/txDlq' },
    summary: 'Ingest sends every refused message here with its reason.',
    messages: [{ $ref: '#/channels/txDlq/messages/deadLetter' }],
  };
  const events = [
    ['batchArrived', ROUTING_KEYS.batchArrived, 'BatchArrivedV1', 'send', 'ingest'],
    ['featuresReady', ROUTING_KEYS.featuresReady, 'FeaturesReadyV1', 'send', 'pipeline'],
    ['modelPublished', ROUTING_KEYS.modelPublished, 'ModelPublishedV1', 'send', 'trainer'],
  ] as const;
  for (const [id, routingKey, message, action, service] of events) {
    channels[id] = {
      address: routingKey,
      title: routingKey,
      description:
        `Routing key ${routingKey} on the topic exchange ${DEFAULT_NAMES.exchange}; the AMQP ` +
        'message id is stable, so consumers drop redeliveries. Unknown fields are accepted and dropped.',
      servers: [{ $ref: '#/servers/rabbitmq' }],
      messages: { event: { $ref: `#/components/messages/${message}` } },
      bindings: amqpChannel(routingKey),
    };
    operations[`${service}Publishes${id[0]?.toUpperCase() ?? ''}${id.slice(1)}`] = {
      action,
      channel: { $ref: `#/channels/${id}` },
      summary: `Published by ${service} through its outbox.`,
      messages: [{ $ref: `#/channels/${id}/messages/event` }],
    };
  }
  const message = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const published = PUBLISHED_MESSAGES.find((candidate) => candidate.name === name);
    return {
      name,
      title: name,
      summary: published?.summary,
      contentType: 'application/json',
      payload: payloadOf(name),
      ...extra,
    };
  };
  const headerProperties = Object.fromEntries(
    Object.values(DEAD_LETTER_HEADERS).map((header) => [header, { type: 'string' }]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'streamtrain wire contract',
      version: '1.0.0',
      description:
        'Every Kafka topic and RabbitMQ event of streamtrain. Generated from libs/contracts by ' +
        '`npm run contracts`; do not edit by hand. Evolution policy: docs/CONTRACTS.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'KAFKA_BROKERS; TLS and SASL as in docs/OPERATIONS.md.',
      },
      rabbitmq: {
        host: '127.0.0.1:5672',
        protocol: 'amqp',
        description: `AMQP_URL; exchange ${DEFAULT_NAMES.exchange} (topic).`,
      },
    },
    channels,
    operations,
    components: {
      messages: {
        TransactionV1: message('TransactionV1', {
          bindings: kafkaKey('customerId of the transaction'),
        }),
        FraudLabelV1: message('FraudLabelV1', {
          bindings: kafkaKey('transactionId of the labelled transaction'),
        }),
        FraudScoreV1: message('FraudScoreV1', {
          bindings: kafkaKey('customerId of the scored transaction'),
        }),
        DeadLetter: {
          name: 'DeadLetter',
          title: 'DeadLetter',
          summary: 'The refused message, as it was sent, with the reason in headers.',
          contentType: 'application/octet-stream',
          headers: {
            type: 'object',
            properties: headerProperties,
            required: Object.values(DEAD_LETTER_HEADERS),
          },
          payload: { description: 'The original message bytes.' },
        },
        BatchArrivedV1: message('BatchArrivedV1'),
        FeaturesReadyV1: message('FeaturesReadyV1'),
        ModelPublishedV1: message('ModelPublishedV1'),
      },
    },
  };
}

/** Every file of docs/contracts, by name, as the generator writes it. */
export function publishedDocuments(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const message of PUBLISHED_MESSAGES) {
    files[message.file] = `${JSON.stringify(jsonSchemaOf(message), null, 2)}\n`;
  }
  files['asyncapi.json'] = `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
  return files;
}

/**
 * Why `current` cannot replace `published` under the same `schemaVersion`: a property removed or
 * changed, a property newly required, or unknown properties no longer allowed. An added optional
 * property is no reason. Empty means compatible.
 */
export function breakingChanges(
  published: Record<string, unknown>,
  current: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const properties = (schema: Record<string, unknown>): Record<string, unknown> =>
    (schema.properties as Record<string, unknown> | undefined) ?? {};
  const required = (schema: Record<string, unknown>): Set<string> =>
    new Set((schema.required as string[] | undefined) ?? []);
  const before = properties(published);
  const after = properties(current);
  for (const [name, schema] of Object.entries(before)) {
    if (!(name in after)) problems.push(`${name}: removed`);
    else if (JSON.stringify(after[name]) !== JSON.stringify(schema))
      problems.push(
        `${name}: changed from ${JSON.stringify(schema)} to ${JSON.stringify(after[name])}`,
      );
  }
  const wasRequired = required(published);
  for (const name of required(current)) {
    if (!wasRequired.has(name)) problems.push(`${name}: now required`);
  }
  if (published.additionalProperties !== false && current.additionalProperties === false)
    problems.push('(root): unknown properties no longer accepted');
  return problems;
}
