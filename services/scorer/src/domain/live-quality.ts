import { averagePrecision, cardPrecisionAtK, rocAuc } from '@streamtrain/metrics';
import { advanceWatermark, matureCandidates } from '@streamtrain/pipeline';

/** A score the scorer served, waiting for its label. */
export interface ServedScore {
  readonly transactionId: string;
  readonly customerId: string;
  readonly eventTimeMs: number;
  readonly score: number;
  readonly modelVersionId: string;
  readonly modelVersion: number;
}

/** A label as the live quality sees it. */
export interface ObservedLabel {
  readonly transactionId: string;
  readonly isFraud: boolean;
  readonly reportedAtMs: number;
}

/** The quality of the scores one model version served, over its most recent matured ones. */
export interface VersionQuality {
  readonly modelVersionId: string;
  readonly modelVersion: number;
  /** Matured scores in the window, and how many of them were fraud. */
  readonly examples: number;
  readonly positives: number;
  /** null while there is no positive (or no negative, for AUC) in the window. */
  readonly auc: number | null;
  readonly averagePrecision: number | null;
  /** Card precision among the 100 highest-scored cards of each day (Fraud Detection Handbook). */
  readonly cardPrecisionAt100: number | null;
}

/** Options of {@link LiveQuality}. */
export interface LiveQualityOptions {
  /** Event time after which an unlabelled transaction counts as genuine. */
  maturityMs: number;
  /** Matured scores kept per version (a rolling window, newest kept). */
  window: number;
  /** Versions reported; older ones are forgotten. */
  versions: number;
  /** Served scores waiting for a label, at most; the oldest are dropped beyond it. */
  maxPending: number;
}

interface MaturedScore {
  transactionId: string;
  eventTimeMs: number;
  score: number;
  label: 0 | 1;
  cardId: string;
  day: string;
}

interface VersionWindow {
  modelVersionId: string;
  modelVersion: number;
  rows: MaturedScore[];
  /** The rows by transaction, so a late fraud label can correct one. */
  byTransaction: Map<string, MaturedScore>;
  /** Next slot to overwrite once `rows` is full. */
  next: number;
}

const DAY_MS = 86_400_000;

/**
 * Joins the fraud labels, as they mature, with the scores actually served, and measures each
 * model version on what it served: AUC, average precision and CP@100 over a rolling window.
 * The labels come from the pipeline's own maturity rule (`advanceWatermark`, `matureCandidates`
 * of `@streamtrain/pipeline`), the one the training examples follow: the event-time watermark
 * never moves back, a score is genuine once the watermark is `maturityMs` past its transaction,
 * fraud when a fraud label was reported by the watermark, a genuine one is corrected by a
 * late fraud label and a fraud one by a later "not fraud" verdict (a reversed chargeback). A score also matures as soon as its label (either verdict) is seen.
 */
export class LiveQuality {
  private readonly pending = new Map<string, ServedScore>();
  /**
   * Labels seen before their score (a backlog scored after its labels streamed by), kept until
   * their score comes, at most `maxPending` of them (the oldest are forgotten first).
   */
  private readonly early = new Map<string, ObservedLabel>();
  private readonly byVersion = new Map<string, VersionWindow>();
  private watermarkMs: number | null = null;
  private matureBeforeMs: number | null = null;
  private droppedPending = 0;

  constructor(private readonly options: LiveQualityOptions) {}

  /** Scores waiting for their label. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Served scores dropped unmatured because `maxPending` was reached. */
  get dropped(): number {
    return this.droppedPending;
  }

  /** Records a served score; a label already seen for it matures it at once. */
  recordServed(served: ServedScore): void {
    const label = this.early.get(served.transactionId);
    if (label !== undefined) {
      this.early.delete(served.transactionId);
      this.matureWith(served, label);
      return;
    }
    if (this.matureBeforeMs !== null && served.eventTimeMs <= this.matureBeforeMs) {
      this.matureWith(served, undefined);
      return;
    }
    this.pending.delete(served.transactionId);
    this.pending.set(served.transactionId, served);
    if (this.pending.size > this.options.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.droppedPending += 1;
    }
  }

  /** Records a label: the served score it belongs to matures with it. */
  recordLabel(label: ObservedLabel): void {
    this.advance(label.reportedAtMs);
    const served = this.pending.get(label.transactionId);
    if (served === undefined) {
      if (this.correct(label)) return;
      this.early.set(label.transactionId, label);
      if (this.early.size > this.options.maxPending) {
        this.early.delete(this.early.keys().next().value as string);
      }
      return;
    }
    this.pending.delete(label.transactionId);
    this.matureWith(served, label);
  }

  /** Moves the event-time watermark: scores older than the maturity window count as genuine. */
  advance(eventTimeMs: number): void {
    if (this.watermarkMs !== null && eventTimeMs <= this.watermarkMs) return;
    const next = advanceWatermark(this.watermarkMs, [eventTimeMs], this.options.maturityMs);
    if (next.watermarkMs === this.watermarkMs) return;
    this.watermarkMs = next.watermarkMs;
    this.matureBeforeMs = next.matureBeforeMs;
    const matureBefore = next.matureBeforeMs ?? Number.NEGATIVE_INFINITY;
    // Scores arrive in about event-time order, so the sweep stops at the first one not yet due
    // (one slightly out of order matures a little later): a label costs O(matured), not O(pending).
    for (const [id, served] of this.pending) {
      if (served.eventTimeMs > matureBefore) break;
      this.pending.delete(id);
      this.matureWith(served, undefined);
    }
  }

  /** Each version's quality, newest version first. */
  report(): VersionQuality[] {
    return [...this.byVersion.values()]
      .sort((a, b) => b.modelVersion - a.modelVersion)
      .map((window) => {
        const scores = window.rows.map((row) => row.score);
        const labels = window.rows.map((row) => row.label);
        const positives = labels.reduce<number>((sum, label) => sum + label, 0);
        const cp =
          window.rows.length === 0
            ? null
            : cardPrecisionAtK(
                window.rows.map((row) => ({
                  day: row.day,
                  cardId: row.cardId,
                  score: row.score,
                  isFraud: row.label === 1,
                })),
                100,
              );
        return {
          modelVersionId: window.modelVersionId,
          modelVersion: window.modelVersion,
          examples: window.rows.length,
          positives,
          auc: window.rows.length === 0 ? null : rocAuc(scores, labels),
          averagePrecision: window.rows.length === 0 ? null : averagePrecision(scores, labels),
          cardPrecisionAt100: cp === null || Number.isNaN(cp) ? null : cp,
        };
      });
  }

  /** The pipeline's label of a transaction, given the label seen for it (if any). */
  private ruled(
    transactionId: string,
    eventTimeMs: number,
    label: ObservedLabel | undefined,
    currentLabel: 0 | 1 | null,
  ): { label: 0 | 1; corrected: boolean } | undefined {
    return matureCandidates(
      [
        {
          transactionId,
          eventTimeMs,
          fraudReportedAtMs: label?.isFraud === true ? label.reportedAtMs : null,
          genuineReportedAtMs: label?.isFraud === false ? label.reportedAtMs : null,
          currentLabel,
        },
      ],
      this.watermarkMs ?? Number.NEGATIVE_INFINITY,
    )[0];
  }

  private matureWith(served: ServedScore, label: ObservedLabel | undefined): void {
    const example = this.ruled(served.transactionId, served.eventTimeMs, label, null);
    if (example !== undefined) this.mature(served, example.label);
  }

  /** A label for a score already matured: corrects it if the rule says so (either way). */
  private correct(label: ObservedLabel): boolean {
    for (const window of this.byVersion.values()) {
      const row = window.byTransaction.get(label.transactionId);
      if (row === undefined) continue;
      const example = this.ruled(row.transactionId, row.eventTimeMs, label, row.label);
      if (example?.corrected === true) row.label = example.label;
      return true;
    }
    return false;
  }

  private mature(served: ServedScore, label: 0 | 1): void {
    let window = this.byVersion.get(served.modelVersionId);
    if (window === undefined) {
      window = {
        modelVersionId: served.modelVersionId,
        modelVersion: served.modelVersion,
        rows: [],
        byTransaction: new Map(),
        next: 0,
      };
      this.byVersion.set(served.modelVersionId, window);
      this.forgetOldVersions();
    }
    const row: MaturedScore = {
      transactionId: served.transactionId,
      eventTimeMs: served.eventTimeMs,
      score: served.score,
      label,
      cardId: served.customerId,
      day: new Date(Math.floor(served.eventTimeMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10),
    };
    if (window.rows.length < this.options.window) {
      window.rows.push(row);
    } else {
      const replaced = window.rows[window.next];
      if (replaced !== undefined && window.byTransaction.get(replaced.transactionId) === replaced)
        window.byTransaction.delete(replaced.transactionId);
      window.rows[window.next] = row;
      window.next = (window.next + 1) % this.options.window;
    }
    window.byTransaction.set(row.transactionId, row);
  }

  private forgetOldVersions(): void {
    if (this.byVersion.size <= this.options.versions) return;
    const oldest = [...this.byVersion.values()].sort((a, b) => a.modelVersion - b.modelVersion);
    for (const window of oldest.slice(0, this.byVersion.size - this.options.versions)) {
      this.byVersion.delete(window.modelVersionId);
    }
  }
}
