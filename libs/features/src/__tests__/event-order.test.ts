import {
  compareEventOrder,
  countAtOrBeforeEvent,
  countAtOrBeforeTime,
  toTimeline,
} from '../event-order';
import { tx } from './feature-fixtures';

describe('event order', () => {
  it('then transactions order by event time, then by id in code-unit order, not locale', () => {
    const sorted = [tx('b', 2), tx('a', 2), tx('Z', 2), tx('z', 1)].sort(compareEventOrder);
    expect(sorted.map((t) => t.transactionId)).toEqual(['z', 'Z', 'a', 'b']);
    expect(compareEventOrder(tx('a', 1), tx('a', 1))).toBe(0);
  });

  it('when copies share an id and event time, then the timeline keeps one, the smaller amount', () => {
    const timeline = toTimeline([
      tx('b', 5, { amount: 3 }),
      tx('a', 5, { amount: 2 }),
      tx('b', 5, { amount: 1 }),
      tx('b', 9, { amount: 4 }),
    ]);
    expect(timeline).toEqual({
      times: [5, 5, 9],
      ids: ['a', 'b', 'b'],
      amounts: [2, 1, 4],
      customers: ['c1', 'c1', 'c1'],
    });
  });

  it('then the searches count entries at or before a time, or an event with its tie rule', () => {
    const timeline = toTimeline([tx('a', 5), tx('c', 5), tx('x', 1), tx('y', 9)]);
    expect([0, 1, 4, 5, 9, 10].map((ms) => countAtOrBeforeTime(timeline, ms))).toEqual([
      0, 1, 1, 3, 4, 4,
    ]);
    expect(countAtOrBeforeEvent(timeline, 5, 'b')).toBe(2);
    expect(countAtOrBeforeEvent(timeline, 5, 'c')).toBe(3);
    expect(countAtOrBeforeEvent(timeline, 0, 'z')).toBe(0);
  });
});
