import { ConfigError, kafkaConnectionOf } from '@streamtrain/config';
import { loadConsoleConfig } from '../config';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  CONSOLE_TOKEN: 'a'.repeat(24),
};

describe('console config', () => {
  it('defaults to port 9469, cluster "local", the ingest and scorer groups and the four services', () => {
    const config = loadConsoleConfig(base);
    expect(config.HTTP_PORT).toBe(9469);
    expect(config.CONSOLE_CLUSTER_NAME).toBe('local');
    expect(config.CONSOLE_LAG_GROUPS).toEqual(['streamtrain-ingest', 'streamtrain-scorer']);
    expect(config.CONSOLE_SERVICES).toEqual([
      { name: 'ingest', url: 'http://127.0.0.1:9464' },
      { name: 'pipeline', url: 'http://127.0.0.1:9465' },
      { name: 'trainer', url: 'http://127.0.0.1:9466' },
      { name: 'scorer', url: 'http://127.0.0.1:9467' },
    ]);
    expect(config.CONSOLE_SCORER_URL).toBe('http://127.0.0.1:9467');
    expect(config.CONSOLE_SCORER_TOKEN).toBeUndefined();
  });

  it('reads repeated service names as instances of one service', () => {
    const config = loadConsoleConfig({
      ...base,
      CONSOLE_SERVICES: 'ingest=http://a:9464,ingest=http://b:9464/,scorer=http://c:9467',
    });
    expect(config.CONSOLE_SERVICES).toEqual([
      { name: 'ingest', url: 'http://a:9464' },
      { name: 'ingest', url: 'http://b:9464' },
      { name: 'scorer', url: 'http://c:9467' },
    ]);
  });

  it('when the token is missing and a service entry is malformed, then it names both problems', () => {
    let error: unknown;
    try {
      loadConsoleConfig({ DATABASE_URL: base.DATABASE_URL, CONSOLE_SERVICES: 'ingest:9464' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/CONSOLE_TOKEN/);
    expect(problems).toMatch(/CONSOLE_SERVICES/);
  });

  it('refuses a table name that is not a plain SQL identifier', () => {
    expect(() => loadConsoleConfig({ ...base, CONSOLE_RUNS_TABLE: 'runs; DROP TABLE x' })).toThrow(
      /CONSOLE_RUNS_TABLE/,
    );
  });

  it('when a Kafka SASL set is half configured, then one error names the missing and stray variables', () => {
    let error: unknown;
    try {
      loadConsoleConfig({
        ...base,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'app',
        KAFKA_SSL_CA_FILE: '/etc/ssl/ca.pem',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(
      expect.arrayContaining([
        'KAFKA_SASL_PASSWORD: is required by KAFKA_SASL_MECHANISM=scram-sha-256',
        'KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true',
      ]),
    );
  });

  it('when Kafka TLS and SASL are fully configured, then the Kafka connection carries them', () => {
    const config = loadConsoleConfig({
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'app',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    expect(kafkaConnectionOf(config)).toMatchObject({
      ssl: {},
      sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'secret' },
    });
  });
});
