import { underPin } from '../registry-audit';

describe('a promotion pin', () => {
  const pin = {
    modelName: 'fraud',
    actor: 'alice',
    reason: 'incident 42',
    pinnedAt: '2026-01-01T00:00:00.000Z',
  };

  it('when the model is pinned, then a promotion becomes a refusal that names the pin and the gate reason', () => {
    expect(underPin({ promote: true, reason: 'candidate AP 0.5 vs 0.4' }, pin)).toEqual({
      promote: false,
      reason:
        "promotion frozen by alice's pin (incident 42); the gate said: candidate AP 0.5 vs 0.4",
    });
  });

  it('when there is no pin, or the gate refused anyway, then the decision is unchanged', () => {
    const refusal = { promote: false, reason: 'too few positives' };
    expect(underPin(refusal, pin)).toBe(refusal);
    const promotion = { promote: true, reason: 'ok' };
    expect(underPin(promotion, null)).toBe(promotion);
  });
});
