import { runFaultSuite } from './suite';

jest.setTimeout(420_000);

// The short variant of `make faults` (issue 13): one fault of each kind that needs no shared
// server restart, with bad input of every class mixed into a steady stream.
describe('the loop under faults', () => {
  it('when every service is killed, stopped, frozen and its database cut off and restarted, then nothing is lost, nothing is doubled and every fault recovers', async () => {
    const report = await runFaultSuite({
      seed: 13,
      perKind: 1,
      kinds: ['sigkill', 'sigterm', 'sigstop', 'pg-terminate', 'pg-restart'],
      ratePerSecond: 50,
      recoveryBoundMs: 180_000,
      postgresPort: 5439 + Math.floor(Math.random() * 200),
    });
    expect(report.faults.filter((fault) => !fault.recovered)).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.labels.missing).toBe(0);
    expect(report.modelHistory).toMatchObject({ unbroken: true });
    expect(report.unexpectedExits).toBe(0);
    const badSent = Object.values(report.badInput.sent).reduce((sum, n) => sum + n, 0);
    expect(report.badInput.deadLettered).toBeGreaterThanOrEqual(badSent);
  });
});
