import { serviceState } from '../service-status';
import { qualityFigures, secondsBetween } from '../staleness';

const probe = (alive: boolean, ready: boolean) => ({
  url: 'http://x',
  alive,
  ready,
  failingChecks: ready ? [] : ['kafka'],
  error: alive ? null : 'ECONNREFUSED',
});

describe('serviceState', () => {
  it('is up when every instance is alive and ready', () => {
    expect(serviceState([probe(true, true), probe(true, true)])).toBe('up');
  });
  it('is degraded when an instance is unready or one of several is down', () => {
    expect(serviceState([probe(true, false)])).toBe('degraded');
    expect(serviceState([probe(true, true), probe(false, false)])).toBe('degraded');
  });
  it('is down when no instance answers', () => {
    expect(serviceState([probe(false, false)])).toBe('down');
    expect(serviceState([])).toBe('down');
  });
});

describe('qualityFigures', () => {
  it('reads AUC, AP and Card Precision@100 from whichever names the trainer recorded', () => {
    expect(qualityFigures({ auc: 0.8, averagePrecision: 0.4, cardPrecisionAt100: 0.2 })).toEqual({
      auc: 0.8,
      averagePrecision: 0.4,
      cardPrecisionAt100: 0.2,
    });
    expect(qualityFigures({ auc: null, averagePrecision: 0.4, examples: 3 })).toEqual({
      auc: null,
      averagePrecision: 0.4,
      cardPrecisionAt100: null,
    });
    expect(qualityFigures(null).auc).toBeNull();
  });
});

describe('secondsBetween', () => {
  it('measures later minus earlier, never negative, and null when a time is missing', () => {
    expect(secondsBetween('2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toBe(60);
    expect(secondsBetween('2026-01-01T00:01:00Z', '2026-01-01T00:00:00Z')).toBe(0);
    expect(secondsBetween(null, '2026-01-01T00:00:00Z')).toBeNull();
  });
});
