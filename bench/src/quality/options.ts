import { InvalidArgumentError } from 'commander';
import type { GatePolicy } from '@streamtrain/model';
import type { PatternChange } from '@streamtrain/simulator';
import { HANDBOOK_TEST_START_DAY, HANDBOOK_TEST_WEEKS } from './handbook';
import type { TestPeriod } from './evaluation';
import type { MicroBatch } from './replay';

/** Backends the evaluation may run on (`tensorflow` needs the optional native package). */
export const BACKENDS = ['auto', 'wasm', 'cpu'] as const;
/** A backend preference accepted by `--backend`. */
export type BackendOption = (typeof BACKENDS)[number];

const DEFAULT_GATE: GateKind = 'bootstrap';
const DEFAULT_WARM_START: 'latest' | 'champion' = 'champion';

/** The trainer's and pipeline's defaults (services/trainer/src/config.ts, pipeline config). */
export const LIVE_DEFAULTS = Object.freeze({
  maturityDays: 7,
  epochs: 2,
  batchSize: 256,
  positiveWeight: 10,
  modelSeed: 42,
  holdoutSize: 20_000,
  minTrainExamples: 2_000,
  gate: Object.freeze<GatePolicy>({ minExamples: 200, minPositives: 5, maxApDrop: 0.01 }),
  gateKind: DEFAULT_GATE,
  /** TRAINER_GATE=bootstrap: confidence and replicates of `gateOnHoldout` (seed TRAINER_SEED). */
  gateConfidence: 0.9,
  gateReplicates: 100,
  replayPositives: 1000,
  replayReservoir: 8000,
  warmStartFrom: DEFAULT_WARM_START,
  holdoutSettledDays: 7,
  weightAveraging: 0.5,
  weightAveragingBackoffRatio: 0,
  weightAveragingBackoffSteps: 30,
  weightAveragingBackoffConsecutive: 1,
});

/** The trainer's gates (`TRAINER_GATE`). */
export const GATE_KINDS = ['tolerance', 'bootstrap'] as const;
export type GateKind = (typeof GATE_KINDS)[number];

/** Parses `--gate`. */
export function parseGateKind(value: string): GateKind {
  const kind = GATE_KINDS.find((known) => known === value);
  if (kind === undefined)
    throw new InvalidArgumentError(`expected one of ${GATE_KINDS.join(', ')}`);
  return kind;
}

/** Parses `--warm-start-from`. */
export function parseWarmStart(value: string): 'latest' | 'champion' {
  if (value !== 'latest' && value !== 'champion') {
    throw new InvalidArgumentError('expected latest or champion');
  }
  return value;
}

/** Parses `--optimizer-state`. */
export function parseOptimizerState(value: string): 'restore' | 'reset' {
  if (value !== 'restore' && value !== 'reset') {
    throw new InvalidArgumentError('expected restore or reset');
  }
  return value;
}

/**
 * The fraud patterns from `--pattern-change-day` on: stolen credentials leak twice as often and
 * are used for half of a compromised card's transactions at ordinary amounts (no 5× spend), and
 * compromised terminals are three times as many but used for a week instead of four.
 */
export function patternChangeFrom(
  fromDay: number,
  customers: number,
  terminals: number,
): PatternChange {
  return {
    fromDay,
    compromisedCustomersPerDay: (2 * 3 * customers) / 5000,
    compromisedCustomerFraudShare: 0.5,
    compromisedAmountMultiplier: 1,
    compromisedTerminalsPerDay: (3 * 2 * terminals) / 10_000,
    terminalCompromiseDays: 7,
  };
}

export { parseCount, parsePositive } from '@streamtrain/simulator';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a micro-batch size: a span of event time (`90s`, `15m`, `1h`, `1d`) or a number of
 * events (`5000`).
 */
export function parseMicroBatch(value: string): MicroBatch {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])?$/.exec(value.trim());
  const amount = Number(match?.[1]);
  if (match === null || !(amount > 0)) {
    throw new InvalidArgumentError("expected a span like '1h', '30m', '90s' or a number of events");
  }
  const unit = match[2];
  if (unit === undefined) {
    if (!Number.isInteger(amount)) throw new InvalidArgumentError('a number of events is whole');
    return { kind: 'events', count: amount };
  }
  return { kind: 'time', ms: amount * (UNIT_MS[unit] as number) };
}

/** Parses `--backend`. */
export function parseBackend(value: string): BackendOption {
  const backend = BACKENDS.find((known) => known === value);
  if (backend === undefined) {
    throw new InvalidArgumentError(`expected one of ${BACKENDS.join(', ')}`);
  }
  return backend;
}

/**
 * The test weeks of a run of `days` days: from `startDay` if given; else the handbook's own
 * (2018-08-08 for four weeks, days 129-156) when the run reaches them; else the last `weeks`
 * weeks of the run.
 *
 * @throws InvalidArgumentError when the weeks do not fit, or leave less than two weeks before
 *   them (one to train on, one for the label delay).
 */
export function resolveTestPeriod(
  days: number,
  weeks: number | undefined,
  startDay: number | undefined,
): TestPeriod {
  const testWeeks = weeks ?? HANDBOOK_TEST_WEEKS;
  const handbookFits = HANDBOOK_TEST_START_DAY + 7 * testWeeks <= days;
  const start = startDay ?? (handbookFits ? HANDBOOK_TEST_START_DAY : days - 7 * testWeeks);
  if (testWeeks < 1 || start < 14 || start + 7 * testWeeks > days) {
    throw new InvalidArgumentError(
      `test weeks ${testWeeks} from day ${start} do not fit a ${days}-day run after ` +
        'at least one training week and the 7-day delay',
    );
  }
  return { startDay: start, weeks: testWeeks };
}
