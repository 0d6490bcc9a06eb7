import { DEFAULT_FEATURE_OPTIONS, FEATURE_SET_VERSION, featureNames } from '../index';
import { resolveFeatureOptions } from '../feature-options';

describe('featureNames', () => {
  it('then the defaults give the handbook baseline features in a stable order', () => {
    expect(featureNames()).toEqual([
      'amount',
      'tx_during_weekend',
      'tx_during_night',
      'customer_id_nb_tx_1day_window',
      'customer_id_avg_amount_1day_window',
      'customer_id_nb_tx_7day_window',
      'customer_id_avg_amount_7day_window',
      'customer_id_nb_tx_30day_window',
      'customer_id_avg_amount_30day_window',
      'terminal_id_nb_tx_1day_window',
      'terminal_id_risk_1day_window',
      'terminal_id_nb_tx_7day_window',
      'terminal_id_risk_7day_window',
      'terminal_id_nb_tx_30day_window',
      'terminal_id_risk_30day_window',
      'customer_id_amount_ratio_30day_window',
      'customer_id_log_hours_since_previous_tx',
      'customer_id_known_frauds_30day_window',
      'terminal_id_known_frauds_30day_window',
      'terminal_id_known_fraud_cards_30day_window',
      'terminal_id_known_fraud_avg_amount_30day_window',
      'terminal_id_log_hours_since_known_fraud',
    ]);
    expect(FEATURE_SET_VERSION).toBe(2);
  });

  it('when windows are set, then the names follow them', () => {
    expect(
      featureNames({ customerWindowsDays: [], terminalWindowsDays: [3], labelProfileDays: 0 }),
    ).toEqual([
      'amount',
      'tx_during_weekend',
      'tx_during_night',
      'terminal_id_nb_tx_3day_window',
      'terminal_id_risk_3day_window',
    ]);
  });
});

describe('resolveFeatureOptions', () => {
  it('then unset options take the handbook defaults, which cannot be changed by accident', () => {
    expect(resolveFeatureOptions()).toEqual(DEFAULT_FEATURE_OPTIONS);
    expect(resolveFeatureOptions({ terminalDelayDays: 0 })).toEqual({
      ...DEFAULT_FEATURE_OPTIONS,
      terminalDelayDays: 0,
    });
    expect(Object.isFrozen(DEFAULT_FEATURE_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_FEATURE_OPTIONS.customerWindowsDays)).toBe(true);
  });

  it.each([
    [{ customerWindowsDays: [0] }, /customerWindowsDays: 0 is not a positive whole number/],
    [{ customerWindowsDays: [1.5] }, /customerWindowsDays: 1.5/],
    [{ terminalWindowsDays: [-1] }, /terminalWindowsDays: -1/],
    [{ labelProfileDays: 1.5 }, /labelProfileDays: 1.5/],
    [{ labelProfileDays: -1 }, /labelProfileDays: -1/],
    [{ terminalWindowsDays: [7, 7] }, /terminalWindowsDays: \[7, 7\] repeats a window/],
    [{ terminalDelayDays: -1 }, /terminalDelayDays: -1 is not >= 0/],
    [{ terminalDelayDays: Number.NaN }, /terminalDelayDays: NaN/],
    [{ nightEndHour: -1 }, /nightEndHour: -1/],
    [{ nightEndHour: 25 }, /nightEndHour: 25/],
    [{ nightEndHour: 5.5 }, /nightEndHour: 5.5/],
  ])('when options are %j, then it throws a RangeError naming the problem', (options, message) => {
    expect(() => resolveFeatureOptions(options)).toThrow(RangeError);
    expect(() => resolveFeatureOptions(options)).toThrow(message);
    expect(() => featureNames(options)).toThrow(message);
  });
});
