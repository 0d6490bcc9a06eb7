import { ConfigError } from '@streamtrain/config';
import { loadConsoleConfig } from '../config';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  CONSOLE_TOKEN: 'a'.repeat(24),
};

describe('console config', () => {
  it('defaults to port 9469, cluster "local", the ingest group and the three services', () => {
    const config = loadConsoleConfig(base);
    expect(config.HTTP_PORT).toBe(9469);
    expect(config.CONSOLE_CLUSTER_NAME).toBe('local');
    expect(config.CONSOLE_LAG_GROUPS).toEqual(['streamtrain-ingest']);
    expect(config.CONSOLE_SERVICES.map((target) => target.name)).toEqual([
      'ingest',
      'pipeline',
      'trainer',
    ]);
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
});
