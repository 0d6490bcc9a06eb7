import { ConfigError } from '@streamtrain/config';
import { loadTrainerConfig } from '../config';

const base = {
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/streamtrain',
  TRAINER_API_TOKEN: 'unit-test-trainer-token-0123',
};

describe('trainer config: the learner options', () => {
  it('when none is given, then the replay buffer is on, the gate is the bootstrap gate on a settled holdout and steps warm-start from the champion', () => {
    expect(loadTrainerConfig(base)).toMatchObject({
      TRAINER_GATE: 'bootstrap',
      TRAINER_GATE_CONFIDENCE: 0.9,
      TRAINER_GATE_REPLICATES: 100,
      TRAINER_REPLAY_POSITIVES: 1000,
      TRAINER_REPLAY_RESERVOIR: 8000,
      TRAINER_WARM_START_FROM: 'champion',
      TRAINER_HOLDOUT_SETTLED_DAYS: 7,
      TRAINER_WEIGHT_AVERAGING: 0.5,
      TRAINER_WEIGHT_AVERAGING_BACKOFF_RATIO: 0,
      TRAINER_WEIGHT_AVERAGING_BACKOFF_STEPS: 30,
      TRAINER_WEIGHT_AVERAGING_BACKOFF_CONSECUTIVE: 1,
    });
  });

  it('when set, then they are read, and a buffer of 0 and 0 is allowed (new examples only)', () => {
    expect(
      loadTrainerConfig({
        ...base,
        TRAINER_GATE: 'tolerance',
        TRAINER_REPLAY_POSITIVES: '0',
        TRAINER_REPLAY_RESERVOIR: '0',
        TRAINER_WARM_START_FROM: 'latest',
        TRAINER_HOLDOUT_SETTLED_DAYS: '0',
        TRAINER_WEIGHT_AVERAGING: '0',
      }),
    ).toMatchObject({
      TRAINER_GATE: 'tolerance',
      TRAINER_REPLAY_POSITIVES: 0,
      TRAINER_REPLAY_RESERVOIR: 0,
      TRAINER_WARM_START_FROM: 'latest',
      TRAINER_HOLDOUT_SETTLED_DAYS: 0,
      TRAINER_WEIGHT_AVERAGING: 0,
    });
  });

  it('when a gate or warm-start alias is unknown and the confidence and averaging out of range, then one error lists every problem', () => {
    const bad = {
      ...base,
      TRAINER_GATE: 'strict',
      TRAINER_WARM_START_FROM: 'parent',
      TRAINER_WEIGHT_AVERAGING: '1',
    };
    expect(() => loadTrainerConfig({ ...bad, TRAINER_GATE_CONFIDENCE: '1' })).toThrow(ConfigError);
    try {
      loadTrainerConfig({ ...bad, TRAINER_GATE_CONFIDENCE: '1' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('TRAINER_GATE');
      expect(message).toContain('TRAINER_WARM_START_FROM');
      expect(message).toContain('TRAINER_GATE_CONFIDENCE');
      expect(message).toContain('TRAINER_WEIGHT_AVERAGING');
    }
  });
});
