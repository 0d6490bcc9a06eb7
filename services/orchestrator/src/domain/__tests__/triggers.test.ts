import { driftFiring, labelCountFiring, rollbackDue } from '../triggers';

describe('data-driven triggers', () => {
  it('when N labels matured since the last firing, then one firing keyed by where it started', () => {
    expect(labelCountFiring('retrain', 999, null, 1000)).toBeNull();
    expect(labelCountFiring('retrain', 1000, null, 1000)).toEqual({
      key: 'label-count:retrain:0',
      observed: 1000,
    });
    expect(labelCountFiring('retrain', 1500, 1000, 1000)).toBeNull();
    expect(labelCountFiring('retrain', 2100, 1000, 1000)?.key).toBe('label-count:retrain:1000');
    expect(labelCountFiring('retrain', 5000, null, 0)).toBeNull();
  });

  it('when the champion AP is below the threshold, then one firing per champion', () => {
    expect(driftFiring('retrain', 'v1', 0.3, 0.5)).toEqual({
      key: 'drift:retrain:v1',
      observed: 0.3,
    });
    expect(driftFiring('retrain', 'v1', 0.6, 0.5)).toBeNull();
    expect(driftFiring('retrain', 'v1', null, 0.5)).toBeNull();
    expect(driftFiring('retrain', 'v1', 0.1, null)).toBeNull();
  });

  it('when the champion falls more than the tolerance below its predecessor, then roll back', () => {
    expect(rollbackDue(0.4, 0.5, 0.05)).toBe(true);
    expect(rollbackDue(0.46, 0.5, 0.05)).toBe(false);
    expect(rollbackDue(0.1, 0.5, null)).toBe(false);
    expect(rollbackDue(null, 0.5, 0.05)).toBe(false);
  });
});
