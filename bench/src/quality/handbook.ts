/** One row of the Fraud Detection Handbook's model-selection tables. */
export interface HandbookFigures {
  /** Model family, as the handbook names it. */
  readonly model: string;
  readonly auc: number;
  readonly averagePrecision: number;
  readonly cardPrecisionAt100: number;
}

/**
 * Test estimates of the Fraud Detection Handbook (Le Borgne et al., "Reproducible Machine Learning
 * for Credit Card Fraud Detection - Practical Handbook", chapter 5 "Model selection" and chapter 7
 * "Feed-forward neural network") on its simulated dataset: prequential validation with 4 folds of
 * one training week, a 7-day delay and one test week, the test weeks starting on 2018-08-08, -15,
 * -22 and -29; each figure is the mean over the folds, for the hyper-parameters chosen on
 * validation.
 */
export const HANDBOOK_FIGURES: readonly HandbookFigures[] = Object.freeze([
  { model: 'Logistic regression', auc: 0.868, averagePrecision: 0.623, cardPrecisionAt100: 0.297 },
  { model: 'Random forest', auc: 0.87, averagePrecision: 0.678, cardPrecisionAt100: 0.299 },
  { model: 'XGBoost', auc: 0.869, averagePrecision: 0.687, cardPrecisionAt100: 0.303 },
  {
    model: 'Feed-forward network',
    auc: 0.876,
    averagePrecision: 0.675,
    cardPrecisionAt100: 0.303,
  },
]);

/** First day of the handbook's test weeks, as a day index of its 2018-04-01 simulation. */
export const HANDBOOK_TEST_START_DAY = 129;
/** Number of test weeks (folds) in the handbook's prequential test estimate. */
export const HANDBOOK_TEST_WEEKS = 4;
