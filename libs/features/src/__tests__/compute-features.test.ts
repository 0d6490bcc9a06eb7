import { computeFeatures, featureNames } from '../index';
import type { FeatureInput, FeatureOptions, KnownLabel } from '../index';
import { DAY_MS, fraud, tx } from './feature-fixtures';

/** The features of one target as a name → value record, for readable assertions. */
function featuresOf(
  target: FeatureInput,
  history: readonly FeatureInput[],
  labels: readonly KnownLabel[] = [],
  options?: Partial<FeatureOptions>,
): Record<string, number> {
  const [vector] = computeFeatures([target], history, labels, options);
  const names = featureNames(options);
  return Object.fromEntries(names.map((name, i) => [name, vector?.values[i] as number]));
}

const T = Date.parse('2024-01-31T12:00:00.000Z'); // a Wednesday

describe('computeFeatures: amount and calendar', () => {
  it.each([
    ['Friday 23:59:59.999', '2024-01-05T23:59:59.999Z', 0, 0],
    ['Saturday 00:00', '2024-01-06T00:00:00.000Z', 1, 1],
    ['Sunday 05:59:59.999', '2024-01-07T05:59:59.999Z', 1, 1],
    ['Sunday 06:00', '2024-01-07T06:00:00.000Z', 1, 0],
    ['Sunday 23:59:59.999', '2024-01-07T23:59:59.999Z', 1, 0],
    ['Monday 00:00', '2024-01-08T00:00:00.000Z', 0, 1],
    ['Saturday in UTC though Friday in New York', '2024-01-06T03:00:00.000Z', 1, 1],
  ])(
    'when a transaction is on %s UTC, then weekend is %i and night is %i',
    (_, at, weekend, night) => {
      const features = featuresOf(tx('x', at, { amount: 42.5 }), []);
      expect(features).toMatchObject({
        amount: 42.5,
        tx_during_weekend: weekend,
        tx_during_night: night,
      });
    },
  );

  it('when nightEndHour is 0 nothing is at night, and when it is 24 everything is', () => {
    const midnight = tx('x', '2024-01-08T00:00:00.000Z');
    const lateEvening = tx('y', '2024-01-08T23:59:59.999Z');
    expect(featuresOf(midnight, [], [], { nightEndHour: 0 }).tx_during_night).toBe(0);
    expect(featuresOf(lateEvening, [], [], { nightEndHour: 24 }).tx_during_night).toBe(1);
  });
});

describe('computeFeatures: customer windows', () => {
  const target = tx('target', T, { amount: 100 });
  const history = [
    tx('h-half-day', T - DAY_MS / 2, { amount: 10 }),
    tx('h-one-day', T - DAY_MS, { amount: 20 }), // on the 1-day window's open edge
    tx('h-just-inside', T - DAY_MS + 1, { amount: 30 }),
    tx('h-six-days', T - 6 * DAY_MS, { amount: 40 }),
    tx('h-thirty-days', T - 30 * DAY_MS, { amount: 50 }), // on the 30-day window's open edge
    tx('h-29-days', T - 29 * DAY_MS, { amount: 60 }),
    tx('other-customer', T - 1000, { customerId: 'c2', amount: 1_000 }),
    tx('future', T + 1, { amount: 1_000 }),
  ];

  it("then each window counts the target and the customer's earlier transactions in (t - w, t]", () => {
    expect(featuresOf(target, history)).toMatchObject({
      customer_id_nb_tx_1day_window: 3,
      customer_id_nb_tx_7day_window: 5,
      customer_id_nb_tx_30day_window: 6,
    });
  });

  it('then each mean amount is over the same transactions', () => {
    const features = featuresOf(target, history);
    expect(features.customer_id_avg_amount_1day_window).toBeCloseTo((100 + 10 + 30) / 3, 12);
    expect(features.customer_id_avg_amount_7day_window).toBeCloseTo(200 / 5, 12);
    expect(features.customer_id_avg_amount_30day_window).toBeCloseTo(260 / 6, 12);
  });

  it('when the customer has no history, then the target alone is counted', () => {
    expect(featuresOf(target, [])).toMatchObject({
      customer_id_nb_tx_1day_window: 1,
      customer_id_avg_amount_1day_window: 100,
      customer_id_nb_tx_30day_window: 1,
      customer_id_avg_amount_30day_window: 100,
    });
  });

  it("when transactions share the target's millisecond, then only those whose id sorts before count", () => {
    const target = tx('m', T, { amount: 10 });
    const history = [tx('a', T, { amount: 20 }), tx('z', T, { amount: 1_000 })];
    expect(featuresOf(target, history)).toMatchObject({
      customer_id_nb_tx_1day_window: 2,
      customer_id_avg_amount_1day_window: 15,
    });
  });

  it('when windows are given out of order, then names and values follow the given order', () => {
    const options = { customerWindowsDays: [7, 1], terminalWindowsDays: [], labelProfileDays: 0 };
    expect(featureNames(options)).toEqual([
      'amount',
      'tx_during_weekend',
      'tx_during_night',
      'customer_id_nb_tx_7day_window',
      'customer_id_avg_amount_7day_window',
      'customer_id_nb_tx_1day_window',
      'customer_id_avg_amount_1day_window',
    ]);
    expect(computeFeatures([target], history, [], options)[0]?.values.slice(3)).toEqual([
      5,
      40,
      3,
      (100 + 10 + 30) / 3,
    ]);
  });
});

describe('computeFeatures: terminal windows', () => {
  const target = tx('target', T, { terminalId: 'T1' });
  const at = (id: string, eventTimeMs: number): FeatureInput =>
    tx(id, eventTimeMs, { terminalId: 'T1', customerId: `cust-${id}` });
  const history = [
    at('a', T - 7 * DAY_MS), // on the closed end of every window
    at('b', T - 7.5 * DAY_MS),
    at('c', T - 8 * DAY_MS), // on the 1-day window's open edge
    at('d', T - 3 * DAY_MS), // inside the delay: never counted
    at('e', T - 20 * DAY_MS),
    at('f', T - 37 * DAY_MS), // on the 30-day window's open edge
    tx('elsewhere', T - 7 * DAY_MS, { terminalId: 'T2' }),
  ];
  const labels: KnownLabel[] = [
    fraud('a', T - DAY_MS),
    fraud('b', T + 1), // reported after the target: unknown at t
    { transactionId: 'c', isFraud: false, reportedAtMs: T - 2 * DAY_MS },
    fraud('d', T - DAY_MS),
    fraud('e', T - 10 * DAY_MS),
    fraud('f', T - 30 * DAY_MS),
  ];

  it("then nb_tx counts the terminal's transactions in (t - d - w, t - d]", () => {
    expect(featuresOf(target, history, labels)).toMatchObject({
      terminal_id_nb_tx_1day_window: 2,
      terminal_id_nb_tx_7day_window: 3,
      terminal_id_nb_tx_30day_window: 4,
    });
  });

  it('then risk is the share of them known to be fraud at t', () => {
    expect(featuresOf(target, history, labels)).toMatchObject({
      terminal_id_risk_1day_window: 1 / 2,
      terminal_id_risk_7day_window: 1 / 3,
      terminal_id_risk_30day_window: 2 / 4,
    });
  });

  it('when a fraud label is reported after the target, then it is not used', () => {
    const late = [fraud('a', T + 1)];
    expect(featuresOf(target, history, late).terminal_id_risk_1day_window).toBe(0);
  });

  it("when a fraud label is reported before or at the target's time, then it is used", () => {
    expect(featuresOf(target, history, [fraud('a', T - 1)]).terminal_id_risk_1day_window).toBe(0.5);
    expect(featuresOf(target, history, [fraud('a', T)]).terminal_id_risk_1day_window).toBe(0.5);
  });

  it('when a later label says "not fraud", then the earlier fraud label still counts', () => {
    const labels = [
      { transactionId: 'a', isFraud: false, reportedAtMs: T - 1 },
      fraud('a', T - 5),
      fraud('a', T + 5),
    ];
    expect(featuresOf(target, history, labels).terminal_id_risk_1day_window).toBe(0.5);
  });

  it('when the terminal has nothing in a window, then nb_tx and risk are 0', () => {
    const features = featuresOf(tx('lonely', T, { terminalId: 'T9' }), history, labels);
    expect(features.terminal_id_nb_tx_30day_window).toBe(0);
    expect(features.terminal_id_risk_30day_window).toBe(0);
  });

  it('when the delay is 0, then the window ends at the target and same-millisecond ties apply', () => {
    const target = tx('m', T, { terminalId: 'T1' });
    const history = [at('a', T), at('z', T), at('b', T - DAY_MS)];
    const features = featuresOf(target, history, [fraud('a', T)], {
      terminalDelayDays: 0,
      terminalWindowsDays: [1],
    });
    expect(features).toMatchObject({
      terminal_id_nb_tx_1day_window: 2,
      terminal_id_risk_1day_window: 0.5,
    });
  });

  it('when the delay is fractional, then the window moves by that part of a day', () => {
    const features = featuresOf(target, [at('a', T - DAY_MS / 2)], [], {
      terminalDelayDays: 0.5,
      terminalWindowsDays: [1],
    });
    expect(features.terminal_id_nb_tx_1day_window).toBe(1);
  });
});

describe('computeFeatures: batches and copies', () => {
  it("then it returns one vector per target, in the targets' order, with id and event time", () => {
    const targets = [tx('late', T), tx('early', T - DAY_MS)];
    const vectors = computeFeatures(targets, [], []);
    expect(vectors.map((v) => [v.transactionId, v.eventTimeMs])).toEqual([
      ['late', T],
      ['early', T - DAY_MS],
    ]);
    expect(vectors[0]?.values).toHaveLength(featureNames().length);
  });

  it('when targets of one batch share a customer, then each sees the earlier ones only', () => {
    const [late, early] = computeFeatures([tx('late', T), tx('early', T - 1000)], [], []);
    expect(late?.values[3]).toBe(2);
    expect(early?.values[3]).toBe(1);
  });

  it("when history holds a stale copy of a target, then the target's copy is used", () => {
    const target = tx('x', T, { amount: 10 });
    const stale = tx('x', T - 1000, { amount: 99, customerId: 'c9' });
    const features = featuresOf(target, [stale, target, stale]);
    expect(features).toMatchObject({
      customer_id_nb_tx_1day_window: 1,
      customer_id_avg_amount_1day_window: 10,
    });
  });

  it('when history repeats a transaction, then it counts once', () => {
    const h = tx('h', T - 1000, { amount: 30 });
    expect(featuresOf(tx('x', T, { amount: 10 }), [h, h, h])).toMatchObject({
      customer_id_nb_tx_1day_window: 2,
      customer_id_avg_amount_1day_window: 20,
    });
  });

  it('when targets repeat an id with different content, then both get the same canonical copy', () => {
    const first = tx('x', T, { amount: 10, customerId: 'b' });
    const copies = [
      tx('x', T, { amount: 10, customerId: 'c' }),
      tx('x', T, { amount: 10, customerId: 'b', terminalId: 'z' }),
      tx('x', T, { amount: 20, customerId: 'b' }),
      tx('x', T + 1, { amount: 10, customerId: 'a' }),
    ];
    for (const copy of copies) {
      const vectors = computeFeatures([copy, first], [], []);
      expect(vectors[0]).toEqual(vectors[1]);
      expect(vectors[0]?.values[0]).toBe(10);
      const swapped = computeFeatures([first, copy], [], []);
      expect(swapped).toEqual(vectors);
    }
  });

  it('when there are no targets, then there are no vectors', () => {
    expect(computeFeatures([], [tx('h', T)], [fraud('h', T)])).toEqual([]);
  });

  it('when a target or a relevant history row has a non-finite time or amount, then it throws', () => {
    const target = tx('x', T);
    expect(() => computeFeatures([tx('bad', Number.NaN)], [], [])).toThrow(RangeError);
    expect(() => computeFeatures([target], [tx('bad', T, { amount: Infinity })], [])).toThrow(
      /bad: eventTimeMs and amount must be finite/,
    );
  });

  it('when options are invalid, then it throws before computing anything', () => {
    expect(() => computeFeatures([tx('x', T)], [], [], { nightEndHour: 25 })).toThrow(RangeError);
  });
});

describe('computeFeatures: label profile', () => {
  const before = (days: number): number => T - days * DAY_MS;

  it("when several cards' frauds at a terminal are known, then the terminal profile counts them and their cards", () => {
    const history = [
      tx('f1', before(10), { customerId: 'c2', amount: 40 }),
      tx('f2', before(9), { customerId: 'c3', amount: 60 }),
      tx('f3', before(8), { customerId: 'c3', amount: 80 }),
      tx('g1', before(5), { customerId: 'c4', amount: 10 }),
      // Known, but outside the 30-day window.
      tx('old', before(31), { customerId: 'c5', amount: 999 }),
    ];
    const labels = [
      fraud('f1', before(7)),
      fraud('f2', before(6)),
      fraud('f3', before(1)),
      fraud('old', before(30)),
    ];
    const features = featuresOf(tx('x', T, { amount: 50 }), history, labels);
    expect(features).toMatchObject({
      terminal_id_known_frauds_30day_window: 3,
      terminal_id_known_fraud_cards_30day_window: 2,
      terminal_id_known_fraud_avg_amount_30day_window: 60,
    });
    expect(features.terminal_id_log_hours_since_known_fraud).toBeCloseTo(Math.log1p(8 * 24), 12);
  });

  it('when a fraud is reported after the target, then the profile does not see it', () => {
    const history = [tx('f1', before(3), { customerId: 'c2' })];
    const features = featuresOf(tx('x', T), history, [fraud('f1', T + 1)]);
    expect(features).toMatchObject({
      terminal_id_known_frauds_30day_window: 0,
      terminal_id_known_fraud_cards_30day_window: 0,
      terminal_id_known_fraud_avg_amount_30day_window: 0,
      terminal_id_log_hours_since_known_fraud: Math.log1p(30 * 24),
    });
  });

  it('when a card spends far above its own mean, then the ratio, the gap and its known frauds say so', () => {
    const history = [
      tx('a', before(20), { amount: 10, terminalId: 'other' }),
      tx('b', before(2), { amount: 30, terminalId: 'other' }),
    ];
    const features = featuresOf(tx('x', T, { amount: 100 }), history, [fraud('a', before(19))]);
    expect(features).toMatchObject({
      customer_id_amount_ratio_30day_window: 5,
      customer_id_known_frauds_30day_window: 1,
    });
    expect(features.customer_id_log_hours_since_previous_tx).toBeCloseTo(Math.log1p(48), 12);
  });

  it('when the card has no earlier transaction, then the ratio is 1 and the gap is the whole window', () => {
    const features = featuresOf(tx('x', T, { amount: 100 }), []);
    expect(features).toMatchObject({
      customer_id_amount_ratio_30day_window: 1,
      customer_id_log_hours_since_previous_tx: Math.log1p(30 * 24),
      customer_id_known_frauds_30day_window: 0,
    });
  });

  it('when the target itself is labelled before its own time, then it does not count in its profile', () => {
    const features = featuresOf(tx('x', T), [], [fraud('x', before(1))]);
    expect(features.customer_id_known_frauds_30day_window).toBe(0);
    expect(features.terminal_id_known_frauds_30day_window).toBe(0);
  });

  it('when labelProfileDays is 0, then the vector is the handbook baseline', () => {
    expect(featureNames({ labelProfileDays: 0 })).toHaveLength(15);
    expect(computeFeatures([tx('x', T)], [], [], { labelProfileDays: 0 })[0]?.values).toHaveLength(
      15,
    );
  });
});
