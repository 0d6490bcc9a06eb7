import {
  createSimulation,
  eventTimeMs,
  resolveSimulatorConfig,
  scenarioParametersOn,
  SimulatorOptionsError,
} from '../index';
import type { SimulatedEvent, SimulatorOptions, TransactionEvent } from '../index';

const MS_PER_DAY = 86_400_000;
const BASE: SimulatorOptions = { seed: 3, customers: 300, terminals: 600, days: 40 };
const CHANGE_DAY = 20;

function events(options: SimulatorOptions): SimulatedEvent[] {
  return [...createSimulation(options).events()];
}

function transactionsFrom(all: readonly SimulatedEvent[], fromMs: number): TransactionEvent[] {
  return all.filter(
    (event): event is TransactionEvent =>
      event.kind === 'transaction' && eventTimeMs(event) >= fromMs,
  );
}

describe('a fraud pattern change part-way', () => {
  const plain = events(BASE);
  // From the change day: no amount rule, scenario-3 frauds at ordinary amounts, no new terminals.
  const changed = events({
    ...BASE,
    patternChange: {
      fromDay: CHANGE_DAY,
      fraudAmountThreshold: 1e9,
      compromisedAmountMultiplier: 1,
      compromisedTerminalsPerDay: 0,
      compromisedCustomersPerDay: 3,
    },
  });
  const startMs = createSimulation(BASE).startMs;
  const changeMs = startMs + CHANGE_DAY * MS_PER_DAY;

  it('when the change day is not reached, then every earlier transaction is the same as without it', () => {
    const before = (all: readonly SimulatedEvent[]): SimulatedEvent[] =>
      all.filter((event) => event.kind === 'transaction' && eventTimeMs(event) < changeMs);
    expect(before(changed)).toEqual(before(plain));
  });

  it('when the change day is reached, then the new pattern holds: no amount-rule fraud, more card fraud', () => {
    const after = transactionsFrom(changed, changeMs);
    const plainAfter = transactionsFrom(plain, changeMs);
    const scenario = (list: readonly TransactionEvent[], kind: number): number =>
      list.filter((event) => event.scenario === kind).length;
    expect(scenario(plainAfter, 1)).toBeGreaterThan(0);
    expect(scenario(after, 1)).toBe(0);
    expect(scenario(after, 3)).toBeGreaterThan(scenario(plainAfter, 3));
    // Terminals compromised before the change run out within 28 days; none start after it.
    const lateMs = changeMs + 28 * MS_PER_DAY;
    expect(after.filter((e) => e.scenario === 2 && eventTimeMs(e) >= lateMs)).toHaveLength(0);
  });

  it('then the parameters in force switch on the change day, and only the ones given', () => {
    const config = resolveSimulatorConfig({
      patternChange: { fromDay: 10, compromisedAmountMultiplier: 2 },
    });
    expect(scenarioParametersOn(config, 9).compromisedAmountMultiplier).toBe(5);
    expect(scenarioParametersOn(config, 10)).toEqual({
      ...scenarioParametersOn(config, 9),
      compromisedAmountMultiplier: 2,
    });
  });

  it('when the change is invalid, then the options are refused with the field named', () => {
    expect(() => resolveSimulatorConfig({ patternChange: { fromDay: -1 } })).toThrow(
      SimulatorOptionsError,
    );
    expect(() =>
      resolveSimulatorConfig({ patternChange: { fromDay: 1, compromisedCustomerFraudShare: 2 } }),
    ).toThrow(/patternChange\.compromisedCustomerFraudShare/);
  });
});
