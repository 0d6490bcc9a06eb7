import { StreamtrainError } from '@streamtrain/contracts';
import { SimulatorOptionsError, resolveSimulatorConfig, simulationStartMs } from '../config';
import type { SimulatorOptions } from '../config';

describe('resolveSimulatorConfig', () => {
  it('when no option is given, then the handbook defaults apply', () => {
    const config = resolveSimulatorConfig();
    expect(config).toMatchObject({
      seed: 0,
      customers: 5000,
      terminals: 10_000,
      days: 183,
      startDate: '2018-04-01',
      terminalRadius: 5,
      fraudAmountThreshold: 220,
      compromisedTerminalsPerDay: 2,
      terminalCompromiseDays: 28,
      compromisedCustomersPerDay: 3,
      customerCompromiseDays: 14,
      compromisedAmountMultiplier: 5,
      channelWeights: { mobile: 0.4, web: 0.35, pos: 0.25 },
      labelDelay: { kind: 'uniform', minDays: 1, maxDays: 7 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.channelWeights)).toBe(true);
    expect(simulationStartMs(config)).toBe(Date.UTC(2018, 3, 1));
  });

  it('when the population shrinks, then the compromise rates shrink with it, unless given', () => {
    const scaled = resolveSimulatorConfig({ customers: 500, terminals: 1000 });
    expect(scaled.compromisedTerminalsPerDay).toBeCloseTo(0.2);
    expect(scaled.compromisedCustomersPerDay).toBeCloseTo(0.3);
    const explicit = resolveSimulatorConfig({
      customers: 500,
      compromisedCustomersPerDay: 3,
      compromisedTerminalsPerDay: 0,
    });
    expect(explicit.compromisedCustomersPerDay).toBe(3);
    expect(explicit.compromisedTerminalsPerDay).toBe(0);
  });

  it('when several options are wrong, then one error lists every problem', () => {
    const options = {
      customers: 0,
      seed: -1,
      startDate: '2018-13-01',
      meanAmountMin: 50,
      meanAmountMax: 10,
      channelWeights: { mobile: 0 },
      labelDelay: { kind: 'uniform', minDays: 5, maxDays: 1 },
      colour: 'blue',
    } as unknown as SimulatorOptions;
    let caught: unknown;
    try {
      resolveSimulatorConfig(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SimulatorOptionsError);
    expect(caught).toBeInstanceOf(StreamtrainError);
    const error = caught as SimulatorOptionsError;
    expect(error.code).toBe('CONFIG_INVALID');
    const problems = error.problems.join('\n');
    for (const name of ['customers', 'seed', 'startDate', 'colour']) {
      expect(problems).toContain(name);
    }
  });

  it('when the cross-field rules fail, then each is reported', () => {
    expect(() =>
      resolveSimulatorConfig({
        meanAmountMin: 50,
        meanAmountMax: 10,
        channelWeights: { mobile: 0 },
        labelDelay: { kind: 'uniform', minDays: 5, maxDays: 1 },
      }),
    ).toThrow(/meanAmountMin[\s\S]*channelWeights[\s\S]*labelDelay\.minDays/);
  });
});
