import { detectedCards, evaluateTestPeriod } from '../quality/evaluation';
import { parseMicroBatch, resolveTestPeriod } from '../quality/options';
import { ScoredLog } from '../quality/scored-log';

describe('detectedCards', () => {
  it('ranks cards by their best transaction, skips excluded ones and returns the fraudulent among the top k', () => {
    const rows = [
      { day: 0, cardId: 'a', score: 0.9, isFraud: false },
      { day: 0, cardId: 'b', score: 0.2, isFraud: true },
      { day: 0, cardId: 'b', score: 0.8, isFraud: false },
      { day: 0, cardId: 'c', score: 0.95, isFraud: true },
      { day: 0, cardId: 'd', score: 0.1, isFraud: true },
    ];
    expect(detectedCards(rows, 2, new Set(['c']))).toEqual(['b']);
    expect(detectedCards(rows, 3, new Set(['c']))).toEqual(['b', 'd']);
    expect(detectedCards(rows, 1, new Set())).toEqual(['c']);
  });
});

describe('evaluateTestPeriod', () => {
  // One test week from day 14: each day card 'f<day>' is fraud with a top score and card
  // 'g<day>' genuine with a low one, plus card 'known', whose fraud was labelled on day 10.5.
  const log = new ScoredLog();
  for (let day = 14; day < 21; day += 1) {
    log.push({ day, customer: log.customerOf(`f${day}`), score: 0.9, isFraud: true });
    log.push({ day, customer: log.customerOf(`g${day}`), score: 0.1, isFraud: false });
    log.push({ day, customer: log.customerOf('known'), score: 0.05, isFraud: true });
  }
  const known = log.customerOf('known');
  const evidence = { fraudDays: new Map([[known, [9]]]), reportDays: new Map([[known, [10.5]]]) };
  const week = { startDay: 14, weeks: 1 };

  it('when a card was labelled since the fold began, then it counts in none of the metrics', () => {
    const result = evaluateTestPeriod(log, week, 'labelled', evidence);
    expect(result.auc).toBe(1);
    expect(result.averagePrecision).toBe(1);
    expect(result.cardPrecisionAt100).toBeCloseTo(1 / 100, 10);
    expect(result.transactions).toBe(14);
  });

  it("when the handbook's rule is used, then the card's fraud day decides, from 8 days before", () => {
    // Fraud on day 9 is known from day 17 on (9 <= day - 8): days 14-16 keep the card.
    const result = evaluateTestPeriod(log, week, 'handbook', evidence);
    expect(result.transactions).toBe(14 + 3);
  });

  it('when the label came before the fold began, then the card is not known to it', () => {
    const old = { fraudDays: new Map(), reportDays: new Map([[known, [-0.5]]]) };
    expect(evaluateTestPeriod(log, week, 'labelled', old).transactions).toBe(21);
  });

  it('when nothing is removed, then the known card drags the ranking down', () => {
    const result = evaluateTestPeriod(log, week, 'none', evidence);
    expect(result.auc).toBeLessThan(1);
    expect(result.transactions).toBe(21);
    // The card is caught on the first day and left out afterwards, as in the handbook.
    expect(result.cardPrecisionAt100).toBeCloseTo((2 + 6) / 7 / 100, 10);
  });

  it('when a test day has no scored transaction, then it throws', () => {
    expect(() => evaluateTestPeriod(log, { startDay: 15, weeks: 1 }, 'none', evidence)).toThrow(
      RangeError,
    );
  });
});

describe('options', () => {
  it('parses a micro-batch as a span of event time or a number of events', () => {
    expect(parseMicroBatch('1h')).toEqual({ kind: 'time', ms: 3_600_000 });
    expect(parseMicroBatch('30m')).toEqual({ kind: 'time', ms: 1_800_000 });
    expect(parseMicroBatch('5000')).toEqual({ kind: 'events', count: 5000 });
    expect(() => parseMicroBatch('1w')).toThrow();
  });

  it("uses the handbook's test weeks when the run reaches them, else the last weeks", () => {
    expect(resolveTestPeriod(183, undefined, undefined)).toEqual({ startDay: 129, weeks: 4 });
    expect(resolveTestPeriod(70, undefined, undefined)).toEqual({ startDay: 42, weeks: 4 });
    expect(() => resolveTestPeriod(30, undefined, undefined)).toThrow();
  });
});
