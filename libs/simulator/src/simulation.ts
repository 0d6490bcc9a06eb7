import type { Channel, FraudLabel, Transaction } from '@streamtrain/contracts';
import { resolveSimulatorConfig, simulationStartMs } from './config';
import type { LabelDelay, SimulatorConfig, SimulatorOptions } from './config';
import type { LabelEvent, SimulatedEvent, SimulatedTransaction, TransactionEvent } from './events';
import { timeOfDayKeptShare } from './expected-volume';
import { FraudInjector, roundToCents } from './fraud-scenarios';
import { LabelQueue } from './label-queue';
import { TerminalReach, generateCustomers, generateTerminals } from './profiles';
import type { CustomerProfile, TerminalProfile } from './profiles';
import type { Random } from './random';
import { WeightedChoice, randomStream } from './random';

const MS_PER_SECOND = 1000;
const SECONDS_PER_DAY = 86_400;
const MS_PER_DAY = SECONDS_PER_DAY * MS_PER_SECOND;

/** A transaction drawn for a day, before it is classified and given an id. */
interface Draw {
  readonly customer: number;
  readonly terminal: number;
  readonly second: number;
  readonly amount: number;
}

/**
 * A seeded simulation: the drawn population, and its event stream. The stream is generated one
 * simulated day at a time, so memory holds one day's transactions and the labels still pending,
 * never the whole dataset.
 */
export interface Simulation {
  /** The resolved config, defaults included. */
  readonly config: SimulatorConfig;
  /** The customer table. */
  readonly customers: readonly CustomerProfile[];
  /** The terminal table. */
  readonly terminals: readonly TerminalProfile[];
  /** Each customer's reachable terminals. */
  readonly reach: TerminalReach;
  /**
   * Expected number of transactions given the drawn customers: the sum, over customers with a
   * reachable terminal, of mean daily rate × days × share of kept times of day.
   */
  readonly expectedTransactions: number;
  /** Epoch milliseconds of the start of the first simulated day (UTC). */
  readonly startMs: number;
  /**
   * The merged stream in event-time order: transactions, and fraud labels at their `reportedAt`.
   * Labels still pending after the last day follow at the end. Each call starts over and yields
   * the same events.
   */
  events(): Generator<SimulatedEvent, void, undefined>;
  /** The transactions only, with their ground truth; the same transactions as {@link events}. */
  transactions(): Generator<SimulatedTransaction, void, undefined>;
}

function labelDelaySeconds(delay: LabelDelay, random: Random): number {
  let days: number;
  switch (delay.kind) {
    case 'uniform':
      days = random.uniform(delay.minDays, delay.maxDays);
      break;
    case 'fixed':
      days = delay.days;
      break;
    case 'exponential':
      days = delay.minDays - delay.meanDays * Math.log(1 - random.float());
      break;
  }
  return Math.round(days * SECONDS_PER_DAY);
}

/** Draws one customer's transactions of a day, in the handbook's order of draws. */
function drawCustomerDay(
  config: SimulatorConfig,
  customer: CustomerProfile,
  reachable: Int32Array,
  random: Random,
  into: Draw[],
): void {
  const count = random.poisson(customer.meanTxPerDay);
  for (let n = 0; n < count; n += 1) {
    const second = Math.floor(
      random.normal(config.timeOfDayMeanSeconds, config.timeOfDayStdSeconds),
    );
    if (second < 0 || second >= SECONDS_PER_DAY) continue;
    let amount = random.normal(customer.meanAmount, customer.stdAmount);
    if (amount < 0) amount = random.uniform(0, 2 * customer.meanAmount);
    const terminal = reachable[random.int(0, reachable.length - 1)] as number;
    into.push({ customer: customer.index, terminal, second, amount: roundToCents(amount) });
  }
}

/**
 * Creates a simulation from `options` (see {@link SimulatorConfig} for the defaults). Draws the
 * customers, the terminals and who reaches what; events are drawn lazily by `events()`.
 *
 * @throws SimulatorOptionsError when an option is invalid.
 */
export function createSimulation(options: SimulatorOptions = {}): Simulation {
  const config = resolveSimulatorConfig(options);
  const customers = generateCustomers(config, randomStream(config.seed, 'customers'));
  const terminals = generateTerminals(config, randomStream(config.seed, 'terminals'));
  const reach = TerminalReach.build(customers, terminals, config.terminalRadius, config.gridSize);
  const startMs = simulationStartMs(config);
  const keptShare = timeOfDayKeptShare(config);
  const expectedTransactions = customers.reduce(
    (sum, customer) =>
      reach.count(customer.index) > 0 ? sum + customer.meanTxPerDay * config.days * keptShare : sum,
    0,
  );
  const channels = Object.entries(config.channelWeights) as Array<[Channel, number]>;

  function* events(): Generator<SimulatedEvent, void, undefined> {
    const transactionRandom = randomStream(config.seed, 'transactions');
    const channelRandom = randomStream(config.seed, 'channels');
    const delayRandom = randomStream(config.seed, 'labelDelays');
    const fraud = new FraudInjector(config, randomStream(config.seed, 'compromises'));
    const channelChoice = new WeightedChoice(channels);
    const pending = new LabelQueue();
    let index = 0;

    for (let day = 0; day < config.days; day += 1) {
      fraud.startDay(day);
      const draws: Draw[] = [];
      for (const customer of customers) {
        const reachable = reach.terminalsOf(customer.index);
        // The handbook drops such customers' transactions; skipping them draws nothing at all.
        if (reachable.length > 0) {
          drawCustomerDay(config, customer, reachable, transactionRandom, draws);
        }
      }
      // Stable sort: transactions in the same second keep customer order, so ids are reproducible.
      draws.sort((a, b) => a.second - b.second);

      const dayStartMs = startMs + day * MS_PER_DAY;
      for (const draw of draws) {
        const eventMs = dayStartMs + draw.second * MS_PER_SECOND;
        while (pending.nextDueMs() <= eventMs) yield pending.pop() as LabelEvent;

        const { scenario, amount } = fraud.classify(draw.customer, draw.terminal, draw.amount, day);
        const customerId = (customers[draw.customer] as CustomerProfile).id;
        const tx: Transaction = {
          schemaVersion: 1,
          transactionId: `t${config.seed}-${index}`,
          customerId,
          terminalId: (terminals[draw.terminal] as TerminalProfile).id,
          amount,
          eventTime: new Date(eventMs).toISOString(),
          channel: channelChoice.pick(channelRandom),
        };
        index += 1;
        const event: TransactionEvent = {
          kind: 'transaction',
          tx,
          isFraud: scenario > 0,
          scenario,
        };
        yield event;

        if (event.isFraud) {
          const reportedMs =
            eventMs + labelDelaySeconds(config.labelDelay, delayRandom) * MS_PER_SECOND;
          const label: FraudLabel = {
            schemaVersion: 1,
            transactionId: tx.transactionId,
            isFraud: true,
            reportedAt: new Date(reportedMs).toISOString(),
          };
          pending.push(reportedMs, { kind: 'label', label, customerId });
        }
      }
    }
    while (pending.size > 0) yield pending.pop() as LabelEvent;
  }

  function* transactions(): Generator<SimulatedTransaction, void, undefined> {
    for (const event of events()) {
      if (event.kind === 'transaction') yield event;
    }
  }

  return {
    config,
    customers,
    terminals,
    reach,
    expectedTransactions,
    startMs,
    events,
    transactions,
  };
}
