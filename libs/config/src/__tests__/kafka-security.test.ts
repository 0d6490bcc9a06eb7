import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  checkKafkaSecurity,
  kafkaConnectionOf,
  DEFAULT_KAFKA_CLIENT,
  kafkaEnvShape,
  kafkaSecurityCheckParams,
} from '../kafka-security';
import { ConfigError, integer, loadConfig } from '../load-config';

const schema = z
  .object({ ...kafkaEnvShape, OTHER: integer().default(1) })
  .superRefine(checkKafkaSecurity, kafkaSecurityCheckParams);

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(schema, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
};

describe('Kafka security variables', () => {
  let dir: string;
  let keyFile: string;
  let encryptedKeyFile: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kafka-security-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keyFile = path.join(dir, 'client.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    encryptedKeyFile = path.join(dir, 'encrypted.key');
    writeFileSync(
      encryptedKeyFile,
      privateKey.export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'right',
      }),
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when nothing is set, then the connection is plaintext without SASL, on the default client', () => {
    expect(kafkaConnectionOf(loadConfig(schema, {}))).toEqual({
      brokers: ['127.0.0.1:9092'],
      client: DEFAULT_KAFKA_CLIENT,
    });
  });

  it('when KAFKA_CLIENT names a client, then the connection uses it; an unknown one is refused', () => {
    expect(kafkaConnectionOf(loadConfig(schema, { KAFKA_CLIENT: 'platformatic' })).client).toBe(
      'platformatic',
    );
    expect(() => loadConfig(schema, { KAFKA_CLIENT: 'rdkafka' })).toThrow(
      /KAFKA_CLIENT: .*"kafkajs"\|"platformatic"/,
    );
  });

  it('when only KAFKA_SSL is set, then TLS uses the system CAs and no client certificate', () => {
    expect(kafkaConnectionOf(loadConfig(schema, { KAFKA_SSL: 'true' })).ssl).toEqual({});
  });

  it('when SCRAM is named in capitals with its credentials, then the client gets the lower-case mechanism', () => {
    const connection = kafkaConnectionOf(
      loadConfig(schema, {
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'app',
        KAFKA_SASL_PASSWORD: 'secret',
      }),
    );
    expect(connection.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'app',
      password: 'secret',
    });
  });

  it('when a set is half configured, then one error names every missing or stray variable, with the other problems', () => {
    const problems = problemsOf({
      OTHER: 'x',
      KAFKA_SSL_CERT_FILE: path.join(dir, 'missing.pem'),
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'app',
      KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: '/tmp/token',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OTHER: /),
        'KAFKA_SSL_CERT_FILE: is set but KAFKA_SSL is not true',
        'KAFKA_SSL_KEY_FILE: is required with KAFKA_SSL_CERT_FILE (the client certificate)',
        expect.stringMatching(/^KAFKA_SSL_CERT_FILE: cannot read .*missing\.pem \(ENOENT\)$/),
        'KAFKA_SASL_PASSWORD: is required by KAFKA_SASL_MECHANISM=scram-sha-256',
        'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: is not used by KAFKA_SASL_MECHANISM=scram-sha-256',
      ]),
    );
  });

  it('when the mechanism is unknown, then the error lists the supported ones', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'gssapi' }).join('\n')).toMatch(
      /KAFKA_SASL_MECHANISM: .*plain.*scram-sha-256.*scram-sha-512.*oauthbearer/,
    );
  });

  it('when credentials are set without a mechanism, then that is an error rather than ignored', () => {
    expect(problemsOf({ KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD: 'secret' })).toEqual([
      'KAFKA_SASL_USERNAME: is set but KAFKA_SASL_MECHANISM is not',
      'KAFKA_SASL_PASSWORD: is set but KAFKA_SASL_MECHANISM is not',
    ]);
  });

  it('when a client key is encrypted, then it needs the right KAFKA_SSL_KEY_PASSWORD', () => {
    const certLess = { KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: keyFile };
    const withoutPassword = problemsOf({ ...certLess, KAFKA_SSL_KEY_FILE: encryptedKeyFile });
    expect(withoutPassword.join('\n')).toMatch(
      /KAFKA_SSL_KEY_FILE: .* is not an unencrypted PEM private key \(encrypted keys need KAFKA_SSL_KEY_PASSWORD\)/,
    );
    const wrongPassword = problemsOf({
      ...certLess,
      KAFKA_SSL_KEY_FILE: encryptedKeyFile,
      KAFKA_SSL_KEY_PASSWORD: 'wrong',
    });
    expect(wrongPassword.join('\n')).toMatch(
      /KAFKA_SSL_KEY_FILE: .* is not a PEM private key that KAFKA_SSL_KEY_PASSWORD opens/,
    );
    // A key is not a certificate: the certificate check reports it too.
    expect(wrongPassword.join('\n')).toMatch(/KAFKA_SSL_CERT_FILE: .* is not a PEM certificate/);
  });

  it('when OAUTHBEARER is chosen, then exactly one way to get a token is required', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'oauthbearer' })).toEqual([
      expect.stringMatching(/^KAFKA_SASL_OAUTHBEARER_TOKEN_URL: is required by OAUTHBEARER/),
    ]);
    expect(
      problemsOf({
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://idp.example/token',
      }),
    ).toEqual([
      'KAFKA_SASL_OAUTHBEARER_CLIENT_ID: is required with the other KAFKA_SASL_OAUTHBEARER_* client variables',
      'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET: is required with the other KAFKA_SASL_OAUTHBEARER_* client variables',
    ]);
    const connection = kafkaConnectionOf(
      loadConfig(schema, {
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://idp.example/token',
        KAFKA_SASL_OAUTHBEARER_CLIENT_ID: 'ingest',
        KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET: 's3cret',
      }),
    );
    expect(connection.sasl).toEqual({
      mechanism: 'oauthbearer',
      tokenUrl: 'https://idp.example/token',
      clientId: 'ingest',
      clientSecret: 's3cret',
    });
  });

  it('when a schema lacks the check, then kafkaConnectionOf still refuses an inconsistent set', () => {
    const unchecked = loadConfig(z.object(kafkaEnvShape), { KAFKA_SASL_MECHANISM: 'plain' });
    expect(() => kafkaConnectionOf(unchecked)).toThrow(ConfigError);
  });
});
