import { nextFirings } from '../run-operations';

describe('cron validation', () => {
  it('when a five-field cron is given, then its next firings come back', () => {
    const next = nextFirings('0 3 * * 1', 'UTC', 2);
    expect(next).toHaveLength(2);
    for (const iso of next) {
      const date = new Date(iso);
      expect([date.getUTCDay(), date.getUTCHours(), date.getUTCMinutes()]).toEqual([1, 3, 0]);
    }
  });

  it('when the cron is not five valid fields, then the error says why', () => {
    expect(() => nextFirings('0 0 3 * * 1', 'UTC')).toThrow(/five fields/);
    expect(() => nextFirings('61 * * * *', 'UTC')).toThrow(/cron "61 \* \* \* \*"/);
  });
});
