import { resolveSimulatorConfig } from '../config';
import {
  expectedTransactionCount,
  normalCdf,
  reachableShare,
  timeOfDayKeptShare,
} from '../expected-volume';

describe('expected volume', () => {
  it('then the normal CDF matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-2.16)).toBeCloseTo(0.01539, 4);
  });

  it('then N(43200, 20000) keeps about 96.9 % of the times of day', () => {
    expect(timeOfDayKeptShare(resolveSimulatorConfig())).toBeCloseTo(0.9692, 4);
    expect(timeOfDayKeptShare({ timeOfDayMeanSeconds: 100, timeOfDayStdSeconds: 0 })).toBe(1);
  });

  it('then nearly every customer reaches a terminal at the handbook density, fewer when sparse', () => {
    expect(reachableShare(resolveSimulatorConfig())).toBeGreaterThan(0.9999);
    const sparse = reachableShare({ terminals: 100, terminalRadius: 5, gridSize: 100 });
    // Interior: 1 - exp(-100 × π × 25 / 10000) ≈ 0.54; the edges bring it lower.
    expect(sparse).toBeGreaterThan(0.4);
    expect(sparse).toBeLessThan(0.54);
  });

  it("then the handbook's defaults expect about 1.77 million transactions", () => {
    const expected = expectedTransactionCount(resolveSimulatorConfig());
    expect(expected).toBeCloseTo(5000 * 183 * 2 * 0.96923, -3);
    // The handbook's published run (one draw of the customers) has 1,754,155.
    expect(Math.abs(expected / 1_754_155 - 1)).toBeLessThan(0.02);
  });
});
