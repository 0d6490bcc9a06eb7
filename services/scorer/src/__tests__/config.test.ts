import { ConfigError } from '@streamtrain/config';
import { loadScorerConfig } from '../config';

const base = {
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/streamtrain',
  SCORER_API_TOKEN: '0123456789abcdef',
};

describe('scorer config', () => {
  it('when only the secrets are given, then every other option takes its documented default', () => {
    const config = loadScorerConfig(base);
    expect(config).toMatchObject({
      HTTP_PORT: 9467,
      SCORER_SCORES_TOPIC: 'tx.scores',
      SCORER_TOPICS: ['tx.mobile', 'tx.web', 'tx.pos', 'tx.file'],
      SCORER_GROUP_ID: 'streamtrain-scorer',
      SCORER_THRESHOLD: 0.5,
      SCORER_HTTP_MAX_BATCH: 10_000,
      KAFKA_CLIENT_ID: 'streamtrain-scorer',
    });
    expect(config.SCORER_INSTANCE_ID).toMatch(/^[0-9a-f]{8}$/);
  });

  it('when the token is missing and the threshold is out of range, then one error lists both', () => {
    const { SCORER_API_TOKEN: _token, ...rest } = base;
    expect(() => loadScorerConfig({ ...rest, SCORER_THRESHOLD: '2' })).toThrow(ConfigError);
    try {
      loadScorerConfig({ ...rest, SCORER_THRESHOLD: '2' });
    } catch (error) {
      expect((error as Error).message).toMatch(/SCORER_API_TOKEN/);
      expect((error as Error).message).toMatch(/SCORER_THRESHOLD/);
    }
  });

  it('when the token is short, then it is refused', () => {
    expect(() => loadScorerConfig({ ...base, SCORER_API_TOKEN: 'short' })).toThrow(/16 characters/);
  });
});
