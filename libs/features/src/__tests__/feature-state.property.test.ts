import fc from 'fast-check';
import { createSimulation } from '@streamtrain/simulator';
import {
  FeatureState,
  assembleVectors,
  computeFeatures,
  featureNames,
  hashShare,
  toFeatureInput,
} from '../index';
import type { FeatureInput, FeatureOptions, KeyShare, KnownLabel } from '../index';
import { DAY_MS, HOUR_MS, scenarioArb, tx } from './feature-fixtures';

type Arrival =
  | { readonly kind: 'tx'; readonly tx: FeatureInput }
  | { readonly kind: 'label'; readonly label: KnownLabel };

/** The first copy of each id, as the state (and the warehouse) keeps it. */
function firstCopies(rows: readonly FeatureInput[]): FeatureInput[] {
  const byId = new Map<string, FeatureInput>();
  for (const row of rows) if (!byId.has(row.transactionId)) byId.set(row.transactionId, row);
  return [...byId.values()];
}

/** The verdict in force per id after `labels` were applied in order (the warehouse's rows). */
function inForce(labels: readonly KnownLabel[]): KnownLabel[] {
  const byId = new Map<string, KnownLabel>();
  for (const label of labels) byId.set(label.transactionId, label);
  return [...byId.values()];
}

/** A copy of `state` through its snapshot segments, as a service persists and restores it. */
function roundTrip(
  state: FeatureState,
  options: Partial<FeatureOptions>,
  share?: KeyShare,
): FeatureState {
  const copy = new FeatureState({ features: options, floorMs: state.floorMs, share });
  for (const key of state.allSegments()) {
    const body = state.encodeSegment(key);
    if (body !== null) copy.loadSegment(key, body);
  }
  return copy;
}

/**
 * Scenarios with their arrivals shuffled (transactions late, labels before their transaction,
 * copies repeated) and cut into passes: after each pass, some of what arrived is featurised.
 */
const arrivalsArb = scenarioArb.chain((scenario) => {
  const arrivals: Arrival[] = [
    ...scenario.transactions.map((t) => ({ kind: 'tx' as const, tx: t })),
    ...scenario.labels.map((l) => ({ kind: 'label' as const, label: l })),
  ];
  return fc.record({
    scenario: fc.constant(scenario),
    order: fc.shuffledSubarray(arrivals, { minLength: arrivals.length }),
    repeats: fc.array(fc.nat(), { maxLength: 5 }),
    cuts: fc.uniqueArray(fc.nat({ max: arrivals.length }), { maxLength: 4 }),
    probe: fc.nat(),
  });
});

describe('FeatureState properties', () => {
  it('when transactions and labels arrive in any order, late or early, then after every pass its features equal computeFeatures over everything arrived', () => {
    fc.assert(
      fc.property(arrivalsArb, ({ scenario, order, repeats, cuts, probe }) => {
        const { options } = scenario;
        const arrivals = [...order, ...repeats.map((r) => order[r % order.length] as Arrival)];
        const state = new FeatureState({ features: options });
        const seenTx: FeatureInput[] = [];
        const seenLabels: KnownLabel[] = [];
        const ends = [...cuts.sort((a, b) => a - b), arrivals.length];
        let next = 0;
        for (const end of ends) {
          for (; next < end; next += 1) {
            const arrival = arrivals[next] as Arrival;
            if (arrival.kind === 'tx') {
              state.addTransaction(arrival.tx);
              seenTx.push(arrival.tx);
            } else {
              state.addLabel(arrival.label);
              seenLabels.push(arrival.label);
            }
          }
          const held = firstCopies(seenTx);
          if (held.length === 0) continue;
          const targets = held.filter((_, i) => (i + probe) % 3 !== 0);
          expect(state.featuresOf(targets)).toEqual(
            computeFeatures(targets, held, seenLabels, options),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('when verdicts are revised (setLabel), then its features equal computeFeatures over the verdicts in force', () => {
    fc.assert(
      fc.property(arrivalsArb, ({ scenario, order }) => {
        const { options } = scenario;
        const state = new FeatureState({ features: options });
        const labels: KnownLabel[] = [];
        for (const arrival of order) {
          if (arrival.kind === 'tx') state.addTransaction(arrival.tx);
          else {
            state.setLabel(arrival.label);
            labels.push(arrival.label);
          }
        }
        const held = firstCopies(order.flatMap((a) => (a.kind === 'tx' ? [a.tx] : [])));
        expect(state.featuresOf(held)).toEqual(
          computeFeatures(held, held, inForce(labels), options),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('when targets are not held or held with other content, then they are computed as their own copy and the state is left as it was', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ transactions, labels, options, targets }, shift) => {
        const state = new FeatureState({ features: options });
        const history = transactions.filter((t) => !targets.includes(t));
        for (const t of history) state.addTransaction(t);
        for (const label of labels) state.addLabel(label);
        // Some targets are held with another amount and time.
        const stale = targets
          .filter((_, i) => (i + shift) % 2 === 0)
          .map((t) => ({ ...t, amount: t.amount + 1, eventTimeMs: t.eventTimeMs - HOUR_MS }));
        for (const t of stale) state.addTransaction(t);
        const before = state.featuresOf(history);
        expect(state.featuresOf(targets)).toEqual(
          computeFeatures(targets, [...history, ...stale], labels, options),
        );
        expect(state.transactionCount).toBe(history.length + stale.length);
        expect(state.featuresOf(history)).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  it('when restored from its snapshot segments, then the copy gives the same features and goes on the same way', () => {
    fc.assert(
      fc.property(arrivalsArb, ({ scenario, order, cuts }) => {
        const { options } = scenario;
        const cut = cuts[0] ?? Math.floor(order.length / 2);
        const state = new FeatureState({ features: options });
        const apply = (target: FeatureState, arrival: Arrival): void => {
          if (arrival.kind === 'tx') target.addTransaction(arrival.tx);
          else target.addLabel(arrival.label);
        };
        for (const arrival of order.slice(0, cut)) apply(state, arrival);
        const copy = roundTrip(state, options);
        for (const arrival of order.slice(cut)) {
          apply(state, arrival);
          apply(copy, arrival);
        }
        const held = firstCopies(order.flatMap((a) => (a.kind === 'tx' ? [a.tx] : [])));
        expect(copy.transactionCount).toBe(state.transactionCount);
        expect(copy.labelCount).toBe(state.labelCount);
        expect(copy.featuresOf(held)).toEqual(state.featuresOf(held));
      }),
      { numRuns: 200 },
    );
  });
});

describe('FeatureState on key shares', () => {
  it('when N instances each own a share of the cards and terminals and see every arrival, then their parts assemble into the vectors of one instance owning every key', () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 2, max: 3 }), ({ scenario, order }, count) => {
        const { options } = scenario;
        const whole = new FeatureState({ features: options });
        const shares = Array.from(
          { length: count },
          (_, index) => new FeatureState({ features: options, share: hashShare(index, count) }),
        );
        for (const state of [whole, ...shares]) {
          for (const arrival of order) {
            if (arrival.kind === 'tx') state.addTransaction(arrival.tx);
            else state.addLabel(arrival.label);
          }
        }
        const held = firstCopies(order.flatMap((a) => (a.kind === 'tx' ? [a.tx] : [])));
        const parts = shares.flatMap((state) => state.partsOf(held));
        expect(assembleVectors(held, parts, options)).toEqual(whole.featuresOf(held));
      }),
      { numRuns: 200 },
    );
  });

  it('when a part is missing, then assembling says which; and a share refuses a whole vector it cannot compute', () => {
    const T = Date.parse('2024-01-31T12:00:00.000Z');
    const target = tx('x', T, { customerId: 'c1', terminalId: 't1' });
    expect(() => assembleVectors([target], [{ transactionId: 'x', card: [] }])).toThrow(
      /x: its terminal part is missing/,
    );
    const share = new FeatureState({
      share: { ownsCard: () => true, ownsTerminal: () => false },
    });
    expect(() => share.featuresOf([target])).toThrow(/another share's/);
    expect(share.partsOf([target])[0]).toMatchObject({ transactionId: 'x' });
    expect(share.partsOf([target])[0]?.terminal).toBeUndefined();
    expect(() => hashShare(2, 2)).toThrow(RangeError);
  });
});

describe('FeatureState on simulated data', () => {
  const simulation = createSimulation({ customers: 150, terminals: 300, days: 60, seed: 11 });
  const events: Arrival[] = [];
  for (const event of simulation.events()) {
    if (event.kind === 'transaction') events.push({ kind: 'tx', tx: toFeatureInput(event.tx) });
    else
      events.push({
        kind: 'label',
        label: {
          transactionId: event.label.transactionId,
          isFraud: event.label.isFraud,
          reportedAtMs: Date.parse(event.label.reportedAt),
        },
      });
  }

  /**
   * The simulated stream as several sources deliver it: cut into passes of `passSize` events,
   * each pass shuffled, and a share of the events held back by up to `maxLateHours` (a partition
   * behind, a client that batches its uploads).
   */
  function arrivalsOf(seed: number, passSize: number, lateShare: number, maxLateHours: number) {
    return fc
      .sample(
        fc.array(fc.record({ late: fc.double({ min: 0, max: 1, noNaN: true }), key: fc.nat() }), {
          minLength: events.length,
          maxLength: events.length,
        }),
        { seed, numRuns: 1 },
      )[0]
      ?.map((draw, i) => {
        const event = events[i] as Arrival;
        const at = event.kind === 'tx' ? event.tx.eventTimeMs : event.label.reportedAtMs;
        const delay = draw.late < lateShare ? (draw.key % maxLateHours) * HOUR_MS : 0;
        return { event, arrivesAtMs: at + delay, key: draw.key };
      }) as { event: Arrival; arrivesAtMs: number; key: number }[];
  }

  it('when the stream arrives shuffled and late, in passes, with old rows dropped and a restart from the snapshot on the way, then every pass featurises exactly as computeFeatures over the raw history, and so do two instances on disjoint key shares', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 200, max: 1_500 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 72 }),
        (seed, passSize, lateShare, maxLateHours) => {
          const arrivals = arrivalsOf(seed, passSize, lateShare, maxLateHours).sort(
            (a, b) => a.arrivesAtMs - b.arrivesAtMs,
          );
          let state = new FeatureState();
          // Two instances on disjoint key shares, fed the same passes.
          const keyShares = [hashShare(0, 2), hashShare(1, 2)];
          let shards = keyShares.map((share) => new FeatureState({ share }));
          const raw: FeatureInput[] = [];
          const labels: KnownLabel[] = [];
          let newest = Number.NEGATIVE_INFINITY;
          let compared = 0;
          let passes = 0;
          for (let start = 0; start < arrivals.length; start += passSize) {
            const pass = arrivals
              .slice(start, start + passSize)
              .sort((a, b) => a.key - b.key)
              .map((a) => a.event);
            const targets: FeatureInput[] = [];
            for (const arrival of pass) {
              if (arrival.kind === 'label') {
                for (const s of [state, ...shards]) s.addLabel(arrival.label);
                labels.push(arrival.label);
                continue;
              }
              raw.push(arrival.tx);
              newest = Math.max(newest, arrival.tx.eventTimeMs);
              for (const s of [state, ...shards]) s.addTransaction(arrival.tx);
              if (state.covers(arrival.tx.eventTimeMs)) targets.push(arrival.tx);
            }
            passes += 1;
            if (passes % 7 === 0) {
              state = roundTrip(state, {});
              shards = shards.map((shard, i) => roundTrip(shard, {}, keyShares[i]));
            }
            if (targets.length > 0) {
              const expected = computeFeatures(targets, raw, labels);
              expect(state.featuresOf(targets)).toEqual(expected);
              const parts = shards.flatMap((shard) => shard.partsOf(targets));
              expect(assembleVectors(targets, parts)).toEqual(expected);
              compared += targets.length;
            }
            // A pipeline keeps a day of slack behind its newest event for late arrivals.
            for (const s of [state, ...shards]) s.advanceFloor(newest - state.lookBackMs - DAY_MS);
          }
          // Old rows were dropped, and most transactions were still covered.
          expect(state.transactionCount).toBeLessThan(raw.length);
          expect(compared).toBeGreaterThan(raw.length * 0.6);
        },
      ),
      { numRuns: 4 },
    );
  });
});

describe('FeatureState', () => {
  const T = Date.parse('2024-01-31T12:00:00.000Z');

  it('when the floor passes a transaction, then it and its label are dropped, and covers says which targets are exact', () => {
    const state = new FeatureState();
    state.addTransaction(tx('old', T - 40 * DAY_MS));
    state.addTransaction(tx('new', T));
    state.addLabel({ transactionId: 'old', isFraud: true, reportedAtMs: T - 39 * DAY_MS });
    state.addLabel({ transactionId: 'unseen', isFraud: true, reportedAtMs: T - 39 * DAY_MS });
    expect(state.labelCount).toBe(2);
    expect(state.advanceFloor(T - 38 * DAY_MS)).toBe(1);
    expect(state.transactionCount).toBe(1);
    expect(state.labelCount).toBe(0);
    expect(state.addTransaction(tx('too-late', T - 38 * DAY_MS))).toBe(false);
    expect(state.covers(T - 38 * DAY_MS + state.lookBackMs)).toBe(true);
    expect(state.covers(T - 38 * DAY_MS + state.lookBackMs - 1)).toBe(false);
    expect(state.advanceFloor(T - 50 * DAY_MS)).toBe(0);
    expect(state.floorMs).toBe(T - 38 * DAY_MS);
  });

  it('when a fraud verdict is reversed (setLabel), then the transaction no longer counts as fraud', () => {
    const state = new FeatureState({ features: { terminalDelayDays: 0 } });
    state.addTransaction(tx('a', T - DAY_MS / 2));
    state.setLabel({ transactionId: 'a', isFraud: true, reportedAtMs: T - HOUR_MS });
    const at = featureNames().indexOf('terminal_id_risk_1day_window');
    const risk = (): number => state.featuresOf([tx('b', T)])[0]?.values[at] as number;
    expect(risk()).toBe(0.5);
    state.setLabel({ transactionId: 'a', isFraud: false, reportedAtMs: T - 1 });
    expect(risk()).toBe(0);
  });

  it('then only the segments that changed are encoded again, and a dropped day encodes to null', () => {
    const state = new FeatureState();
    state.addTransaction(tx('a', T - 3 * DAY_MS));
    state.addTransaction(tx('b', T));
    expect(state.changedSegments()).toHaveLength(2);
    for (const key of state.changedSegments()) state.encodeSegment(key);
    expect(state.changedSegments()).toEqual([]);
    state.addLabel({ transactionId: 'b', isFraud: true, reportedAtMs: T });
    expect(state.changedSegments()).toEqual(['labels']);
    state.encodeSegment('labels');
    state.advanceFloor(T - 2 * DAY_MS);
    const [dropped] = state.changedSegments();
    expect(state.encodeSegment(dropped as string)).toBeNull();
    state.markChanged([dropped as string]);
    expect(state.changedSegments()).toEqual([dropped]);
    expect(() => state.encodeSegment('nonsense')).toThrow(RangeError);
  });
});
