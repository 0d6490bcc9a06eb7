import { ExampleStore, HoldoutWindow } from '../quality/example-store';
import type { StoredTransaction } from '../quality/example-store';
import { fnv1a32, isHoldout } from '../quality/holdout';

const DAY = 86_400_000;

function tx(id: string, eventTimeMs: number, holdout = false) {
  return { transactionId: id, eventTimeMs, features: new Float32Array([1]), holdout };
}

describe('ExampleStore', () => {
  const options = { maturityMs: 7 * DAY, correctionMs: 7 * DAY };

  it('when a fraud label arrives before maturity, then the transaction becomes a fraud example at once', () => {
    const store = new ExampleStore(options);
    store.store(tx('a', 0));
    store.reportFraud('a', 2 * DAY);
    const { examples } = store.advance(2 * DAY);
    expect(examples.map((e) => [e.transactionId, e.label])).toEqual([['a', 1]]);
    // Maturity later adds nothing: the example exists already.
    expect(store.advance(8 * DAY).examples).toEqual([]);
  });

  it('when the maturity window passes with no label, then the transaction is a genuine example', () => {
    const store = new ExampleStore(options);
    store.store(tx('a', 0));
    store.store(tx('b', DAY));
    expect(store.advance(7 * DAY - 1).examples).toEqual([]);
    expect(store.advance(7 * DAY).examples.map((e) => [e.transactionId, e.label])).toEqual([
      ['a', 0],
    ]);
  });

  it('when a fraud label arrives after maturity, then the genuine example is corrected to fraud', () => {
    const store = new ExampleStore(options);
    store.store(tx('a', 0));
    store.advance(7 * DAY);
    store.reportFraud('a', 9 * DAY);
    const matured = store.advance(9 * DAY);
    expect(matured.examples.map((e) => [e.transactionId, e.label])).toEqual([['a', 1]]);
    expect(matured.corrections.size).toBe(1);
  });

  it('when a label comes after the correction window, then it is counted and ignored', () => {
    const store = new ExampleStore(options);
    store.store(tx('a', 0));
    store.advance(15 * DAY);
    store.reportFraud('a', 15 * DAY);
    expect(store.advance(15 * DAY).examples).toEqual([]);
    expect(store.labelsTooLate).toBe(1);
  });
});

describe('HoldoutWindow', () => {
  const example = (id: string, time: number): StoredTransaction => ({
    ...tx(id, time, true),
    label: 0,
    fraudReportedAtMs: null,
  });

  it('keeps the most recent examples by event time, then id, whatever the order they come in', () => {
    const window = new HoldoutWindow(3);
    window.add([example('d', 40), example('a', 10)]);
    window.add([example('c', 30), example('b', 30)]);
    window.add([example('e', 5)]);
    expect(window.current().map((entry) => entry.example.transactionId)).toEqual(['b', 'c', 'd']);
  });
});

describe('holdout hash', () => {
  it('is 32-bit FNV-1a', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('holds out about one example in five', () => {
    let held = 0;
    for (let i = 0; i < 20_000; i += 1) if (isHoldout(`t0-${i}`)) held += 1;
    expect(held / 20_000).toBeGreaterThan(0.18);
    expect(held / 20_000).toBeLessThan(0.22);
  });
});
