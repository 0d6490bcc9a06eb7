import fc from 'fast-check';
import { computeFeatures, historyRange } from '../index';
import type { FeatureInput, KnownLabel } from '../index';
import {
  DAY_MS,
  expectClose,
  optionsArb,
  referenceFeatures,
  scenarioArb,
  transactionsArb,
} from './feature-fixtures';

const values = (vectors: ReturnType<typeof computeFeatures>): number[][] =>
  vectors.map((v) => v.values);

describe('computeFeatures properties', () => {
  it('agrees with the specification computed the obvious way', () => {
    fc.assert(
      fc.property(scenarioArb, ({ transactions, labels, options, targets }) => {
        const actual = values(computeFeatures(targets, transactions, labels, options));
        expectClose(actual, referenceFeatures(targets, transactions, labels, options));
      }),
      { numRuns: 300 },
    );
  });

  it("when future transactions and late labels are added, then a target's features do not change", () => {
    fc.assert(
      fc.property(
        scenarioArb,
        transactionsArb,
        fc.array(
          fc.record({ isFraud: fc.boolean(), lateByMs: fc.integer({ min: 1, max: 30 * DAY_MS }) }),
        ),
        ({ transactions, labels, options, targets }, extra, lateLabels) => {
          const target = targets[0] as FeatureInput;
          const t = target.eventTimeMs;
          // Later in event order: a later millisecond, or the same one with an id sorting after.
          const future = extra
            .map((e) => ({ ...e, transactionId: `${target.transactionId}~${e.transactionId}` }))
            .map((e) => ({ ...e, eventTimeMs: Math.max(e.eventTimeMs, t) }));
          const late: KnownLabel[] = lateLabels.map((l, i) => ({
            transactionId: (transactions[i % transactions.length] as FeatureInput).transactionId,
            isFraud: l.isFraud,
            reportedAtMs: t + l.lateByMs,
          }));
          const before = computeFeatures([target], transactions, labels, options);
          const after = computeFeatures(
            [target],
            [...future, ...transactions],
            [...late, ...labels],
            options,
          );
          expect(after).toEqual(before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when history and labels are reordered and repeated, then the features are identical', () => {
    const reorderedArb = scenarioArb.chain((scenario) =>
      fc
        .record({ withTargets: fc.boolean(), repeats: fc.array(fc.nat()) })
        .chain(({ withTargets, repeats }) => {
          const history = withTargets
            ? scenario.transactions
            : scenario.transactions.filter((t) => !scenario.targets.includes(t));
          const repeated = [
            ...history,
            ...repeats.flatMap((r) => (history.length === 0 ? [] : [history[r % history.length]])),
          ] as FeatureInput[];
          return fc.record({
            scenario: fc.constant(scenario),
            history: fc.constant(history),
            shuffled: fc.shuffledSubarray(repeated, { minLength: repeated.length }),
            labels: fc.shuffledSubarray(scenario.labels, { minLength: scenario.labels.length }),
          });
        }),
    );
    fc.assert(
      fc.property(reorderedArb, ({ scenario, history, shuffled, labels }) => {
        const { targets, options } = scenario;
        expect(computeFeatures(targets, shuffled, labels, options)).toEqual(
          computeFeatures(targets, history, scenario.labels, options),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('when history and labels are cut to historyRange, then the features are identical, bit for bit', () => {
    fc.assert(
      fc.property(scenarioArb, ({ transactions, labels, options, targets }) => {
        const { fromMs, toMs } = historyRange(targets, options);
        const inRange = transactions.filter(
          (t) => t.eventTimeMs >= fromMs && t.eventTimeMs <= toMs,
        );
        const known = labels.filter((l) => l.reportedAtMs <= toMs);
        expect(computeFeatures(targets, inRange, known, options)).toEqual(
          computeFeatures(targets, transactions, labels, options),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('when a batch is split, then each part gets the same features as in the whole batch', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ transactions, labels, options, targets }, cut) => {
        const at = cut % (targets.length + 1);
        const whole = computeFeatures(targets, transactions, labels, options);
        const parts = [
          ...computeFeatures(targets.slice(0, at), transactions, labels, options),
          ...computeFeatures(targets.slice(at), transactions, labels, options),
        ];
        expect(parts).toEqual(whole);
      }),
    );
  });

  it('accepts any valid options', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        expect(() => computeFeatures([], [], [], options)).not.toThrow();
      }),
    );
  });
});
