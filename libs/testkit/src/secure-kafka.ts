import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The secured listeners and test credentials of `infra/kafka/secure-broker.sh`. */
export interface SecureKafka {
  /** Mutual TLS (client certificate required). */
  sslBroker: string;
  /** SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) without TLS. */
  saslBroker: string;
  /** SASL over TLS (server certificate only). */
  saslSslBroker: string;
  /** No security: for the tests' own setup (topics, producing input). */
  plaintextBroker: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  clientKeyPassword: string;
  scramUser: string;
  scramPassword: string;
  plainUser: string;
  plainPassword: string;
  /** Stops the broker and deletes its state (certificates included). */
  stop(): Promise<void>;
}

const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'infra', 'kafka', 'secure-broker.sh');

function camel(key: string): string {
  return key
    .replace(/^SECURE_KAFKA_/, '')
    .toLowerCase()
    .replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Starts (or reuses) the extra broker with secured listeners beside the shared one; it takes a
 * JVM start, so a test file calls it once in `beforeAll` and `stop()` in `afterAll`.
 */
export async function startSecureKafka(): Promise<SecureKafka> {
  const { stdout } = await run('bash', [SCRIPT, 'up'], { timeout: 240_000 });
  const facts: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const at = line.indexOf('=');
    if (line.startsWith('SECURE_KAFKA_') && at > 0)
      facts[camel(line.slice(0, at))] = line.slice(at + 1);
  }
  const fact = (name: string): string => {
    const value = facts[name];
    if (value === undefined) throw new Error(`secure-broker.sh printed no ${name}`);
    return value;
  };
  return {
    sslBroker: fact('sslBroker'),
    saslBroker: fact('saslBroker'),
    saslSslBroker: fact('saslSslBroker'),
    plaintextBroker: fact('plaintextBroker'),
    caFile: fact('caFile'),
    clientCertFile: fact('clientCertFile'),
    clientKeyFile: fact('clientKeyFile'),
    clientKeyPassword: fact('clientKeyPassword'),
    scramUser: fact('scramUser'),
    scramPassword: fact('scramPassword'),
    plainUser: fact('plainUser'),
    plainPassword: fact('plainPassword'),
    async stop() {
      await run('bash', [SCRIPT, 'down'], { timeout: 60_000 });
    },
  };
}
