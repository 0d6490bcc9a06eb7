import { scenarioParametersOn } from './config';
import type { ScenarioParameters, SimulatorConfig } from './config';
import type { FraudScenario } from './events';
import type { Random } from './random';

/** The outcome of {@link FraudInjector.classify}: the scenario and the amount as it ends up. */
export interface Classification {
  readonly scenario: FraudScenario;
  readonly amount: number;
}

/** Rounds to whole cents; a multiplied amount would otherwise carry float noise like 12.350000001. */
export function roundToCents(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/**
 * The handbook's three fraud scenarios, applied in event-time order so a simulation never looks
 * ahead. Scenario 3 in the handbook marks exactly a third of a compromised customer's
 * transactions over the whole window, which needs the window's future; here each such transaction
 * is fraud with probability 1/3, which has the same expectation.
 */
export class FraudInjector {
  private readonly config: SimulatorConfig;
  private readonly random: Random;
  /** Per terminal, the first day on which it is no longer compromised (0: never was). */
  private readonly terminalUntil: Int32Array;
  /** Per customer, the first day on which its credentials are no longer abused. */
  private readonly customerUntil: Int32Array;
  private cachedDay = Number.NaN;
  private cached: ScenarioParameters | null = null;

  /** Starts with nothing compromised; draws from `random` only. */
  constructor(config: SimulatorConfig, random: Random) {
    this.config = config;
    this.random = random;
    this.terminalUntil = new Int32Array(config.terminals);
    this.customerUntil = new Int32Array(config.customers);
  }

  /**
   * Compromises this day's terminals and customers. A compromise starting on `day` covers `day`
   * itself, as in the handbook; a repeat compromise extends the window.
   */
  startDay(day: number): void {
    const { random } = this;
    const config = this.parametersOn(day);
    const terminals = random.roundStochastically(config.compromisedTerminalsPerDay);
    for (const index of random.sampleDistinct(this.config.terminals, terminals)) {
      this.terminalUntil[index] = Math.max(
        this.terminalUntil[index] as number,
        day + config.terminalCompromiseDays,
      );
    }
    const customers = random.roundStochastically(config.compromisedCustomersPerDay);
    for (const index of random.sampleDistinct(this.config.customers, customers)) {
      this.customerUntil[index] = Math.max(
        this.customerUntil[index] as number,
        day + config.customerCompromiseDays,
      );
    }
  }

  /** The scenario parameters of `day`, cached per day (`classify` runs per transaction). */
  private parametersOn(day: number): ScenarioParameters {
    if (this.cachedDay !== day) {
      this.cachedDay = day;
      this.cached = scenarioParametersOn(this.config, day);
    }
    return this.cached as ScenarioParameters;
  }

  /** Whether `terminalIndex` is compromised on `day`. */
  isTerminalCompromised(terminalIndex: number, day: number): boolean {
    return (this.terminalUntil[terminalIndex] as number) > day;
  }

  /** Whether `customerIndex`'s credentials are being abused on `day`. */
  isCustomerCompromised(customerIndex: number, day: number): boolean {
    return (this.customerUntil[customerIndex] as number) > day;
  }

  /**
   * Classifies one transaction of `day`. Scenarios are checked in the handbook's order, each
   * overriding the previous, so the recorded scenario is the last that applied.
   */
  classify(
    customerIndex: number,
    terminalIndex: number,
    amount: number,
    day: number,
  ): Classification {
    const config = this.parametersOn(day);
    let scenario: FraudScenario = amount > config.fraudAmountThreshold ? 1 : 0;
    if (this.isTerminalCompromised(terminalIndex, day)) scenario = 2;
    if (
      this.isCustomerCompromised(customerIndex, day) &&
      this.random.bernoulli(config.compromisedCustomerFraudShare)
    ) {
      return {
        scenario: 3,
        amount: roundToCents(amount * config.compromisedAmountMultiplier),
      };
    }
    return { scenario, amount };
  }
}
