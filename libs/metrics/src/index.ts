export { rocAuc } from './roc-auc';
export { averagePrecision } from './average-precision';
export { logLoss, brierScore } from './probability-scores';
export { cardPrecisionAtK } from './card-precision-at-k';
export type { ScoredCardTransaction } from './card-precision-at-k';
export { bootstrapIntervals, pairedBootstrap } from './bootstrap';
export type {
  BootstrapOptions,
  Interval,
  PairedBootstrapResult,
  RankingIntervals,
} from './bootstrap';
