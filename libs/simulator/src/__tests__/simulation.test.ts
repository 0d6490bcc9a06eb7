import { FraudLabelV1, TransactionV1 } from '@streamtrain/contracts';
import {
  createSimulation,
  expectedTransactionCount,
  type SimulatedEvent,
  type SimulatedTransaction,
} from '../index';

const MS_PER_DAY = 86_400_000;

/** The reduced handbook configuration: a tenth of the population, the full 183 days. */
const REDUCED = { seed: 7, customers: 500, terminals: 1000, days: 183 } as const;

function take<T>(iterable: Iterable<T>, count: number): T[] {
  const taken: T[] = [];
  for (const item of iterable) {
    if (taken.length >= count) break;
    taken.push(item);
  }
  return taken;
}

/** Everything the assertions need from one pass over the reduced simulation's ~175k transactions. */
interface RunStats {
  transactions: number;
  frauds: number;
  labels: number;
  scenarios: number[];
  channels: Record<string, number>;
  invalidTransactions: string[];
  invalidLabels: string[];
  outOfOrder: number;
  labelProblems: string[];
  unlabelledFrauds: number;
  idProblems: number;
  unreachableTerminals: number;
  scenarioOneMismatches: number;
  badAmounts: number;
}

function runReduced(): RunStats {
  const simulation = createSimulation(REDUCED);
  const customers = new Map(simulation.customers.map((c) => [c.id, c]));
  const terminals = new Map(simulation.terminals.map((t) => [t.id, t]));
  const radius = simulation.config.terminalRadius;
  const stats: RunStats = {
    transactions: 0,
    frauds: 0,
    labels: 0,
    scenarios: [0, 0, 0, 0],
    channels: {},
    invalidTransactions: [],
    invalidLabels: [],
    outOfOrder: 0,
    labelProblems: [],
    unlabelledFrauds: 0,
    idProblems: 0,
    unreachableTerminals: 0,
    scenarioOneMismatches: 0,
    badAmounts: 0,
  };
  const awaitingLabel = new Map<string, { eventMs: number; customerId: string }>();
  let previousMs = -Infinity;

  for (const event of simulation.events()) {
    if (event.kind === 'transaction') {
      const { tx } = event;
      const eventMs = Date.parse(tx.eventTime);
      if (eventMs < previousMs) stats.outOfOrder += 1;
      previousMs = eventMs;
      const parsed = TransactionV1.safeParse(tx);
      if (!parsed.success && stats.invalidTransactions.length < 5) {
        stats.invalidTransactions.push(parsed.error.message);
      }
      if (tx.transactionId !== `t${REDUCED.seed}-${stats.transactions}`) stats.idProblems += 1;
      const customer = customers.get(tx.customerId);
      const terminal = terminals.get(tx.terminalId);
      if (customer === undefined || terminal === undefined) {
        stats.unreachableTerminals += 1;
      } else if (Math.hypot(customer.x - terminal.x, customer.y - terminal.y) >= radius) {
        stats.unreachableTerminals += 1;
      }
      if ((event.scenario === 1) !== tx.amount > 220 && event.scenario < 2) {
        stats.scenarioOneMismatches += 1;
      }
      if (Math.round(tx.amount * 100) / 100 !== tx.amount || tx.amount < 0) stats.badAmounts += 1;
      stats.transactions += 1;
      stats.scenarios[event.scenario] = (stats.scenarios[event.scenario] ?? 0) + 1;
      stats.channels[tx.channel] = (stats.channels[tx.channel] ?? 0) + 1;
      if (event.isFraud !== event.scenario > 0) stats.labelProblems.push('isFraud vs scenario');
      if (event.isFraud) {
        stats.frauds += 1;
        awaitingLabel.set(tx.transactionId, { eventMs, customerId: tx.customerId });
      }
    } else {
      const { label } = event;
      const reportedMs = Date.parse(label.reportedAt);
      if (reportedMs < previousMs) stats.outOfOrder += 1;
      previousMs = reportedMs;
      if (!FraudLabelV1.safeParse(label).success) stats.invalidLabels.push(label.transactionId);
      stats.labels += 1;
      const labelled = awaitingLabel.get(label.transactionId);
      if (labelled === undefined) {
        stats.labelProblems.push(`label for an unknown, genuine or already labelled tx`);
        continue;
      }
      awaitingLabel.delete(label.transactionId);
      const delayDays = (reportedMs - labelled.eventMs) / MS_PER_DAY;
      if (!label.isFraud || delayDays < 1 || delayDays > 7) {
        stats.labelProblems.push(`${label.transactionId}: delay ${delayDays} days`);
      }
      if (event.customerId !== labelled.customerId) stats.labelProblems.push('label key');
    }
  }
  stats.unlabelledFrauds = awaitingLabel.size;
  return stats;
}

describe('simulation', () => {
  let stats: RunStats;
  beforeAll(() => {
    stats = runReduced();
  });

  describe('reproducibility', () => {
    it('when run twice with the same seed, then the first 20,000 events are identical', () => {
      const first = take(createSimulation(REDUCED).events(), 20_000);
      const second = take(createSimulation(REDUCED).events(), 20_000);
      expect(second).toEqual(first);
      expect(first.some((event) => event.kind === 'label')).toBe(true);
    });

    it('when the seed differs, then the stream differs', () => {
      const a = take(createSimulation({ ...REDUCED, seed: 1 }).transactions(), 1000);
      const b = take(createSimulation({ ...REDUCED, seed: 2 }).transactions(), 1000);
      const strip = ({ tx }: SimulatedTransaction): unknown => ({ ...tx, transactionId: '' });
      expect(b.map(strip)).not.toEqual(a.map(strip));
    });

    it('when only the channel weights change, then everything but the channels stays the same', () => {
      const base = take(createSimulation(REDUCED).events(), 5000);
      const other = take(
        createSimulation({ ...REDUCED, channelWeights: { web: 1, file: 1 } }).events(),
        5000,
      );
      const withoutChannel = (event: SimulatedEvent): unknown =>
        event.kind === 'transaction' ? { ...event, tx: { ...event.tx, channel: '-' } } : event;
      expect(other.map(withoutChannel)).toEqual(base.map(withoutChannel));
      expect(other.every((e) => e.kind === 'label' || ['web', 'file'].includes(e.tx.channel))).toBe(
        true,
      );
    });

    it('when events() is called again on one simulation, then it starts over', () => {
      const simulation = createSimulation({ ...REDUCED, days: 3 });
      expect(take(simulation.events(), 500)).toEqual(take(simulation.events(), 500));
    });
  });

  describe('handbook sizes and rates (500 customers, 1,000 terminals, 183 days)', () => {
    it('then the transaction count is within 1 % of its expectation given the drawn customers', () => {
      const simulation = createSimulation(REDUCED);
      // Only Poisson noise remains once the customers are drawn: sd = sqrt(175k) ≈ 0.24 %.
      expect(stats.transactions / simulation.expectedTransactions).toBeCloseTo(1, 1);
      expect(Math.abs(stats.transactions / simulation.expectedTransactions - 1)).toBeLessThan(0.01);
    });

    it('then the count is within 8 % of the analytic expectation from the config alone', () => {
      const expected = expectedTransactionCount(createSimulation(REDUCED).config);
      // 500 × 183 × 2 × 0.9692 (times of day kept) × 0.9986 (customers with a terminal in reach).
      expect(expected).toBeGreaterThan(176_000);
      expect(expected).toBeLessThan(178_000);
      // The customers' daily rates, U(0, 4) for 500 customers, alone spread the total by 2.6 % (sd).
      expect(Math.abs(stats.transactions / expected - 1)).toBeLessThan(0.08);
    });

    it('then the fraud rate is about 0.8 %, with every scenario present', () => {
      const rate = stats.frauds / stats.transactions;
      // Over 15 seeds this configuration gave 0.68–1.01 % (mean 0.84 %, sd 0.1 pp).
      expect(rate).toBeGreaterThan(0.0055);
      expect(rate).toBeLessThan(0.0115);
      const [, amount = 0, terminal = 0, customer = 0] = stats.scenarios;
      expect(amount).toBeGreaterThan(0);
      // Compromised terminals dominate, as in the handbook; leaked credentials come next.
      expect(terminal).toBeGreaterThan(customer);
      expect(customer).toBeGreaterThan(amount);
    });

    it('then channels follow the 0.4 / 0.35 / 0.25 weights', () => {
      expect(stats.channels.mobile! / stats.transactions).toBeCloseTo(0.4, 2);
      expect(stats.channels.web! / stats.transactions).toBeCloseTo(0.35, 2);
      expect(stats.channels.pos! / stats.transactions).toBeCloseTo(0.25, 2);
      expect(stats.channels.file).toBeUndefined();
    });
  });

  describe('every event', () => {
    it('then every transaction validates against TransactionV1 and every label against FraudLabelV1', () => {
      expect(stats.invalidTransactions).toEqual([]);
      expect(stats.invalidLabels).toEqual([]);
    });

    it('then events come in event-time order (labels at their reportedAt)', () => {
      expect(stats.outOfOrder).toBe(0);
    });

    it('then ids are t<seed>-<index> in order, amounts are whole cents and terminals are in reach', () => {
      expect(stats.idProblems).toBe(0);
      expect(stats.badAmounts).toBe(0);
      expect(stats.unreachableTerminals).toBe(0);
      expect(stats.scenarioOneMismatches).toBe(0);
    });

    it('then each fraud gets exactly one label, 1–7 days after it, and nothing genuine is labelled', () => {
      expect(stats.labelProblems).toEqual([]);
      expect(stats.unlabelledFrauds).toBe(0);
      expect(stats.labels).toBe(stats.frauds);
    });
  });

  it('when the label delay is fixed, then every label comes exactly that long after its transaction', () => {
    const simulation = createSimulation({
      ...REDUCED,
      days: 40,
      labelDelay: { kind: 'fixed', days: 2.5 },
    });
    const times = new Map<string, number>();
    let checked = 0;
    for (const event of simulation.events()) {
      if (event.kind === 'transaction') {
        times.set(event.tx.transactionId, Date.parse(event.tx.eventTime));
      } else {
        const delay = Date.parse(event.label.reportedAt) - times.get(event.label.transactionId)!;
        expect(delay).toBe(2.5 * MS_PER_DAY);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('when a customer has no terminal in reach, then it never transacts', () => {
    const simulation = createSimulation({ seed: 3, customers: 200, terminals: 20, days: 10 });
    const stranded = new Set(
      simulation.customers.filter((c) => simulation.reach.count(c.index) === 0).map((c) => c.id),
    );
    expect(stranded.size).toBeGreaterThan(0);
    for (const { tx } of simulation.transactions()) {
      expect(stranded.has(tx.customerId)).toBe(false);
    }
  });
});
