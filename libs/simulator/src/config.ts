import { CHANNELS, StreamtrainError } from '@streamtrain/contracts';
import type { Channel } from '@streamtrain/contracts';
import { z } from 'zod';

/** How long after its transaction a fraud label (a chargeback) is reported, in days. */
export type LabelDelay =
  | {
      /** Uniform in [minDays, maxDays]. */
      readonly kind: 'uniform';
      readonly minDays: number;
      readonly maxDays: number;
    }
  | {
      /** Always the same delay. */
      readonly kind: 'fixed';
      readonly days: number;
    }
  | {
      /** `minDays` plus an exponential tail of mean `meanDays`: most quick, a few very late. */
      readonly kind: 'exponential';
      readonly minDays: number;
      readonly meanDays: number;
    };

/** The fraud-scenario parameters a {@link PatternChange} may set. */
export type ScenarioParameters = Pick<
  SimulatorConfig,
  | 'fraudAmountThreshold'
  | 'compromisedTerminalsPerDay'
  | 'terminalCompromiseDays'
  | 'compromisedCustomersPerDay'
  | 'customerCompromiseDays'
  | 'compromisedCustomerFraudShare'
  | 'compromisedAmountMultiplier'
>;

/**
 * Fraud patterns that change part-way through a simulation: from day `fromDay` (0-based, that day
 * included) the given scenario parameters replace the configured ones. Everything before that day
 * is exactly the simulation without the change; compromises already running keep their end day.
 */
export interface PatternChange extends Partial<ScenarioParameters> {
  readonly fromDay: number;
}

/**
 * A simulation, fully specified. The defaults reproduce the Fraud Detection Handbook's simulated
 * dataset (Le Borgne et al., "Transaction data simulator"): about 1.75 million transactions and
 * a fraud rate of about 0.8 %.
 */
export interface SimulatorConfig {
  /** Seed of every random stream; the same seed gives the same events. 0 to 2^32 - 1. @default 0 */
  readonly seed: number;
  /** Number of customers. @default 5000 */
  readonly customers: number;
  /** Number of terminals. @default 10000 */
  readonly terminals: number;
  /** Number of simulated days. @default 183 */
  readonly days: number;
  /** First simulated day, `YYYY-MM-DD`, starting at 00:00 UTC. @default '2018-04-01' */
  readonly startDate: string;
  /** Side of the square on which customers and terminals are placed. @default 100 */
  readonly gridSize: number;
  /** A customer uses the terminals closer than this to home (Euclidean). @default 5 */
  readonly terminalRadius: number;
  /** A customer's mean amount is uniform in [meanAmountMin, meanAmountMax). @default 5 */
  readonly meanAmountMin: number;
  /** See {@link SimulatorConfig.meanAmountMin}. @default 100 */
  readonly meanAmountMax: number;
  /** A customer's mean transactions per day is uniform in [0, maxMeanTxPerDay). @default 4 */
  readonly maxMeanTxPerDay: number;
  /** Mean of the normal time of day, in seconds after midnight. @default 43200 */
  readonly timeOfDayMeanSeconds: number;
  /** Standard deviation of the time of day, in seconds; times outside the day are dropped. @default 20000 */
  readonly timeOfDayStdSeconds: number;
  /** Scenario 1: every transaction above this amount is fraud. @default 220 */
  readonly fraudAmountThreshold: number;
  /**
   * Scenario 2: terminals compromised each day (fractional values are honoured on average).
   * @default 2 × terminals / 10000, which is 2 at the handbook's size and keeps the fraud rate
   * of a smaller or larger population about the same.
   */
  readonly compromisedTerminalsPerDay: number;
  /** Scenario 2: days, from the day of compromise, a terminal's transactions are all fraud. @default 28 */
  readonly terminalCompromiseDays: number;
  /**
   * Scenario 3: customers whose credentials leak each day (fractional values honoured on average).
   * @default 3 × customers / 5000, which is 3 at the handbook's size.
   */
  readonly compromisedCustomersPerDay: number;
  /** Scenario 3: days, from the day of compromise, a customer's transactions are at risk. @default 14 */
  readonly customerCompromiseDays: number;
  /** Scenario 3: share of a compromised customer's transactions that are fraud. @default 1/3 */
  readonly compromisedCustomerFraudShare: number;
  /** Scenario 3: a fraudulent transaction's amount is multiplied by this. @default 5 */
  readonly compromisedAmountMultiplier: number;
  /** Relative weight of each channel; channels left out never occur. @default { mobile: 0.4, web: 0.35, pos: 0.25 } */
  readonly channelWeights: Readonly<Partial<Record<Channel, number>>>;
  /** Delay of a fraud label after its transaction. @default { kind: 'uniform', minDays: 1, maxDays: 7 } */
  readonly labelDelay: LabelDelay;
  /** Fraud patterns that change from a given day on, for staleness experiments. @default none */
  readonly patternChange?: PatternChange;
}

/** Options of a simulation: any subset of {@link SimulatorConfig}; the rest take their defaults. */
export type SimulatorOptions = Partial<SimulatorConfig>;

/** The handbook's population, to which the compromise rates' defaults are scaled. */
const HANDBOOK_TERMINALS = 10_000;
const HANDBOOK_CUSTOMERS = 5_000;

const days = z.number().finite().nonnegative();

const labelDelaySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('uniform'), minDays: days, maxDays: days }),
  z.strictObject({ kind: z.literal('fixed'), days }),
  z.strictObject({
    kind: z.literal('exponential'),
    minDays: days,
    meanDays: z.number().positive(),
  }),
]);

const optionsSchema = z
  .strictObject({
    seed: z.number().int().min(0).max(0xffff_ffff).default(0),
    customers: z.number().int().min(1).max(1_000_000).default(HANDBOOK_CUSTOMERS),
    terminals: z.number().int().min(1).max(1_000_000).default(HANDBOOK_TERMINALS),
    days: z.number().int().min(1).max(3660).default(183),
    startDate: z.iso.date().default('2018-04-01'),
    gridSize: z.number().finite().positive().default(100),
    terminalRadius: z.number().finite().positive().default(5),
    meanAmountMin: z.number().finite().nonnegative().default(5),
    // Capped so that the normal tail times the scenario-3 multiplier stays far below MAX_AMOUNT.
    meanAmountMax: z.number().finite().positive().max(10_000).default(100),
    maxMeanTxPerDay: z.number().finite().nonnegative().max(100).default(4),
    timeOfDayMeanSeconds: z.number().finite().default(43_200),
    timeOfDayStdSeconds: z.number().finite().nonnegative().default(20_000),
    fraudAmountThreshold: z.number().finite().default(220),
    compromisedTerminalsPerDay: z.number().finite().nonnegative().optional(),
    terminalCompromiseDays: z.number().int().min(1).default(28),
    compromisedCustomersPerDay: z.number().finite().nonnegative().optional(),
    customerCompromiseDays: z.number().int().min(1).default(14),
    compromisedCustomerFraudShare: z
      .number()
      .min(0)
      .max(1)
      .default(1 / 3),
    compromisedAmountMultiplier: z.number().finite().positive().max(100).default(5),
    channelWeights: z
      .partialRecord(z.enum(CHANNELS), z.number().finite().nonnegative())
      .default({ mobile: 0.4, web: 0.35, pos: 0.25 }),
    labelDelay: labelDelaySchema.default({ kind: 'uniform', minDays: 1, maxDays: 7 }),
    patternChange: z
      .strictObject({
        fromDay: z.number().int().min(0),
        fraudAmountThreshold: z.number().finite().optional(),
        compromisedTerminalsPerDay: z.number().finite().nonnegative().optional(),
        terminalCompromiseDays: z.number().int().min(1).optional(),
        compromisedCustomersPerDay: z.number().finite().nonnegative().optional(),
        customerCompromiseDays: z.number().int().min(1).optional(),
        compromisedCustomerFraudShare: z.number().min(0).max(1).optional(),
        compromisedAmountMultiplier: z.number().finite().positive().max(100).optional(),
      })
      .optional(),
  })
  .superRefine((options, context) => {
    if (options.meanAmountMin > options.meanAmountMax) {
      context.addIssue({
        code: 'custom',
        path: ['meanAmountMin'],
        message: 'must not exceed meanAmountMax',
      });
    }
    if (!Object.values(options.channelWeights).some((weight) => weight > 0)) {
      context.addIssue({
        code: 'custom',
        path: ['channelWeights'],
        message: 'at least one channel needs a positive weight',
      });
    }
    const delay = options.labelDelay;
    if (delay.kind === 'uniform' && delay.minDays > delay.maxDays) {
      context.addIssue({
        code: 'custom',
        path: ['labelDelay', 'minDays'],
        message: 'must not exceed maxDays',
      });
    }
  });

/** Thrown when simulator options are invalid; `problems` names every one of them. */
export class SimulatorOptionsError extends StreamtrainError {
  /** One line per problem, e.g. `customers: Too small: expected number to be >=1`. */
  readonly problems: readonly string[];

  /** Builds the error from its list of problems. */
  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid simulator options:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SimulatorOptionsError';
    this.problems = problems;
  }
}

/**
 * Validates `options` and fills in the defaults. Returns a frozen config, or throws one
 * {@link SimulatorOptionsError} listing every problem.
 */
export function resolveSimulatorConfig(options: SimulatorOptions = {}): SimulatorConfig {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new SimulatorOptionsError(
      parsed.error.issues.map(
        (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
      ),
    );
  }
  const data = parsed.data;
  return Object.freeze({
    ...data,
    compromisedTerminalsPerDay:
      data.compromisedTerminalsPerDay ?? (2 * data.terminals) / HANDBOOK_TERMINALS,
    compromisedCustomersPerDay:
      data.compromisedCustomersPerDay ?? (3 * data.customers) / HANDBOOK_CUSTOMERS,
    channelWeights: Object.freeze({ ...data.channelWeights }),
    labelDelay: Object.freeze({ ...data.labelDelay }),
    ...(data.patternChange === undefined
      ? {}
      : { patternChange: Object.freeze(withoutUndefined(data.patternChange)) }),
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

/** The scenario parameters in force on `day`: the configured ones, changed from `fromDay` on. */
export function scenarioParametersOn(config: SimulatorConfig, day: number): ScenarioParameters {
  const base: ScenarioParameters = {
    fraudAmountThreshold: config.fraudAmountThreshold,
    compromisedTerminalsPerDay: config.compromisedTerminalsPerDay,
    terminalCompromiseDays: config.terminalCompromiseDays,
    compromisedCustomersPerDay: config.compromisedCustomersPerDay,
    customerCompromiseDays: config.customerCompromiseDays,
    compromisedCustomerFraudShare: config.compromisedCustomerFraudShare,
    compromisedAmountMultiplier: config.compromisedAmountMultiplier,
  };
  const change = config.patternChange;
  if (change === undefined || day < change.fromDay) return base;
  const { fromDay: _fromDay, ...overrides } = change;
  return { ...base, ...overrides };
}

/** Midnight UTC of the first simulated day, in epoch milliseconds. */
export function simulationStartMs(config: Pick<SimulatorConfig, 'startDate'>): number {
  return Date.parse(`${config.startDate}T00:00:00.000Z`);
}
