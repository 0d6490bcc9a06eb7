import { resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';

/**
 * Version of the feature semantics. Bump it whenever a value changes for the same input, so
 * stored features and models trained on them are never mixed with the new definition.
 * v2 added the label-profile features (`labelProfileDays`, 30 by default).
 */
export const FEATURE_SET_VERSION = 2;

/**
 * The feature names, in the order of `FeatureVector.values`: amount, calendar flags, then
 * per customer window a count and a mean amount, then per terminal window a count and a risk,
 * each in the order the windows are given, then the label-profile features (see
 * `FeatureOptions.labelProfileDays`). Names follow the Fraud Detection Handbook, in snake_case,
 * e.g. `customer_id_nb_tx_7day_window`, `terminal_id_risk_30day_window`.
 *
 * @throws RangeError when the options are invalid (see `resolveFeatureOptions`).
 */
export function featureNames(options?: Partial<FeatureOptions>): readonly string[] {
  const { customerWindowsDays, terminalWindowsDays, labelProfileDays } =
    resolveFeatureOptions(options);
  const w = labelProfileDays;
  return [
    'amount',
    'tx_during_weekend',
    'tx_during_night',
    ...customerWindowsDays.flatMap((days) => [
      `customer_id_nb_tx_${days}day_window`,
      `customer_id_avg_amount_${days}day_window`,
    ]),
    ...terminalWindowsDays.flatMap((days) => [
      `terminal_id_nb_tx_${days}day_window`,
      `terminal_id_risk_${days}day_window`,
    ]),
    ...(w === 0
      ? []
      : [
          `customer_id_amount_ratio_${w}day_window`,
          `customer_id_log_hours_since_previous_tx`,
          `customer_id_known_frauds_${w}day_window`,
          `terminal_id_known_frauds_${w}day_window`,
          `terminal_id_known_fraud_cards_${w}day_window`,
          `terminal_id_known_fraud_avg_amount_${w}day_window`,
          `terminal_id_log_hours_since_known_fraud`,
        ]),
  ];
}
