import { resolveSimulatorConfig } from '../config';
import { FraudInjector, roundToCents } from '../fraud-scenarios';
import { LabelQueue } from '../label-queue';
import type { LabelEvent } from '../events';
import { randomStream } from '../random';
import fc from 'fast-check';

describe('FraudInjector', () => {
  const config = resolveSimulatorConfig({
    customers: 50,
    terminals: 40,
    compromisedTerminalsPerDay: 2,
    compromisedCustomersPerDay: 3,
  });

  it('when a terminal is compromised on day d, then it stays so through day d + 27', () => {
    const injector = new FraudInjector(config, randomStream(9, 'compromises'));
    injector.startDay(0);
    const compromised = Array.from({ length: 40 }, (_, index) => index).filter((index) =>
      injector.isTerminalCompromised(index, 0),
    );
    expect(compromised.length).toBeGreaterThanOrEqual(1);
    const [terminal = -1] = compromised;
    expect(injector.isTerminalCompromised(terminal, 27)).toBe(true);
    expect(injector.isTerminalCompromised(terminal, 28)).toBe(false);
  });

  it('when a customer is compromised on day d, then it stays so through day d + 13', () => {
    const injector = new FraudInjector(config, randomStream(9, 'compromises'));
    const daysOf: number[][] = Array.from({ length: 50 }, () => []);
    for (let day = 0; day < 60; day += 1) {
      // Compromises start until day 40 only, so no window is cut short by the end of the loop.
      if (day < 40) injector.startDay(day);
      daysOf.forEach((days, customer) => {
        if (injector.isCustomerCompromised(customer, day)) days.push(day);
      });
    }
    const runs: number[] = [];
    for (const days of daysOf) {
      let run = 0;
      days.forEach((day, i) => {
        run = i > 0 && days[i - 1] === day - 1 ? run + 1 : 1;
        if (days[i + 1] !== day + 1) runs.push(run);
      });
    }
    expect(runs.length).toBeGreaterThan(10);
    expect(Math.min(...runs)).toBeGreaterThanOrEqual(14);
    expect(runs).toContain(14);
  });

  it('then an amount above the threshold is scenario 1, a compromised terminal overrides it', () => {
    const injector = new FraudInjector(
      resolveSimulatorConfig({
        customers: 1,
        terminals: 1,
        compromisedTerminalsPerDay: 2,
        compromisedCustomersPerDay: 0,
      }),
      randomStream(1, 'compromises'),
    );
    expect(injector.classify(0, 0, 220, 0)).toEqual({ scenario: 0, amount: 220 });
    expect(injector.classify(0, 0, 220.01, 0)).toEqual({ scenario: 1, amount: 220.01 });
    injector.startDay(0); // the only terminal: compromised for sure (2 a day, clamped to 1)
    expect(injector.classify(0, 0, 300, 0)).toEqual({ scenario: 2, amount: 300 });
  });

  it('when credentials leak, then about a third of the transactions are fraud at five times the amount', () => {
    const injector = new FraudInjector(
      resolveSimulatorConfig({
        customers: 1,
        terminals: 1,
        compromisedTerminalsPerDay: 0,
        compromisedCustomersPerDay: 1,
      }),
      randomStream(2, 'compromises'),
    );
    injector.startDay(0);
    const outcomes = Array.from({ length: 30_000 }, () => injector.classify(0, 0, 12.34, 0));
    const frauds = outcomes.filter((outcome) => outcome.scenario === 3);
    expect(frauds.length / outcomes.length).toBeCloseTo(1 / 3, 2);
    expect(frauds.every((outcome) => outcome.amount === 61.7)).toBe(true);
    expect(outcomes.filter((o) => o.scenario === 0).every((o) => o.amount === 12.34)).toBe(true);
  });

  it('then roundToCents removes float noise', () => {
    expect(roundToCents(12.34 * 5)).toBe(61.7);
    expect(roundToCents(0.1 + 0.2)).toBe(0.3);
  });
});

describe('LabelQueue', () => {
  const labelEvent = (index: number): LabelEvent => ({
    kind: 'label',
    customerId: 'c0',
    label: { schemaVersion: 1, transactionId: `t${index}`, isFraud: true, reportedAt: '' },
  });

  it('then labels leave in due order, and in insertion order when due together', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (dues) => {
        const queue = new LabelQueue();
        dues.forEach((due, index) => queue.push(due, labelEvent(index)));
        const popped: number[] = [];
        while (queue.size > 0) {
          const due = queue.nextDueMs();
          const index = Number(queue.pop()!.label.transactionId.slice(1));
          expect(dues[index]).toBe(due);
          popped.push(index);
        }
        const expected = dues
          .map((due, index) => ({ due, index }))
          .sort((a, b) => a.due - b.due || a.index - b.index)
          .map(({ index }) => index);
        expect(popped).toEqual(expected);
        expect(queue.nextDueMs()).toBe(Infinity);
        expect(queue.pop()).toBeUndefined();
      }),
    );
  });
});
