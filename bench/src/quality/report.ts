import { HANDBOOK_FIGURES } from './handbook';
import type { HandbookFigures } from './handbook';
import type { QualityMetrics, TestEvaluation, TestPeriod } from './evaluation';
import type { ReplayResult } from './replay';
import { dateOfSimDay } from './sim-time';

/** The machine a run was measured on. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly node: string;
  readonly tfjsBackend: string;
}

/** A batch peer's figures. */
export interface PeerEvaluation {
  readonly retrains: number;
  readonly firstDay: number | null;
  readonly labelled: TestEvaluation;
  readonly handbookRule: TestEvaluation;
}

/** `docs/results/quality.json`. */
export interface QualityReport {
  readonly generatedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly config: Readonly<Record<string, unknown>> & {
    readonly days: number;
    readonly testPeriod: TestPeriod & { readonly firstDate: string; readonly lastDate: string };
  };
  readonly durationSeconds: number;
  readonly results: {
    readonly auc: number | null;
    readonly averagePrecision: number | null;
    readonly cardPrecisionAt100: number | null;
    readonly testDays: number;
    readonly testTransactions: number;
    readonly testFrauds: number;
    readonly versions: number;
    readonly promotions: number;
    /** The headline figures' detail: per test week, and pooled over the period. */
    readonly evaluation: TestEvaluation;
    /** The same test period under the other known-card rules. */
    readonly variants: {
      readonly handbookRule: TestEvaluation;
      readonly noExclusion: TestEvaluation;
    };
    /** The in-run batch peers on the same transactions, under the two known-card rules. */
    readonly peers: {
      readonly frozen: PeerEvaluation;
      readonly weekly: PeerEvaluation;
    };
    readonly replay: Omit<
      ReplayResult,
      'log' | 'knownCards' | 'promotions' | 'startMs' | 'frozen' | 'weekly'
    >;
  };
  readonly handbook: readonly HandbookFigures[];
  readonly rolling: readonly {
    readonly day: number;
    readonly date: string;
    readonly ap: number | null;
    readonly promotions: number;
  }[];
  /** The batch peers' rolling AP, day by day, as `rolling` is the continuous model's. */
  readonly rollingPeers?: {
    readonly weekly: readonly { readonly day: number; readonly ap: number | null }[];
    readonly frozen: readonly { readonly day: number; readonly ap: number | null }[];
  };
}

const fixed = (value: number | null, digits = 3): string =>
  value === null ? 'n/a' : value.toFixed(digits);

/** Rows of the comparison: ours (headline and variants), then the handbook's. */
function comparisonRows(report: QualityReport): [string, QualityMetrics | HandbookFigures][] {
  const { evaluation, variants, peers } = report.results;
  return [
    ['streamtrain, prequential (recently labelled cards removed)', evaluation],
    ["streamtrain, same scores, handbook's known-card rule", variants.handbookRule],
    ['streamtrain, same scores, no card removed', variants.noExclusion],
    ['in-run peer: trained once, frozen (recently labelled cards removed)', peers.frozen.labelled],
    ["in-run peer: trained once, frozen, handbook's known-card rule", peers.frozen.handbookRule],
    [
      'in-run peer: weekly retrain from scratch (recently labelled cards removed)',
      peers.weekly.labelled,
    ],
    [
      "in-run peer: weekly retrain from scratch, handbook's known-card rule",
      peers.weekly.handbookRule,
    ],
    ...HANDBOOK_FIGURES.map((figures): [string, HandbookFigures] => [
      `handbook: ${figures.model}`,
      figures,
    ]),
  ];
}

/** The comparison as a plain-text table for a terminal. */
export function formatTable(report: QualityReport): string {
  const rows = comparisonRows(report);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = [
    `${'model'.padEnd(width)}  AUC ROC  AP     CP@100`,
    ...rows.map(
      ([name, m]) =>
        `${name.padEnd(width)}  ${fixed(m.auc).padEnd(7)}  ${fixed(m.averagePrecision).padEnd(5)}  ` +
        fixed(m.cardPrecisionAt100),
    ),
  ];
  return lines.join('\n');
}

/**
 * A Markdown table laid out as Prettier lays it out (columns padded to their widest cell, right
 * alignment marked with a colon), so a generated page passes `prettier --check` unchanged.
 */
export function formatMarkdownTable(
  header: readonly string[],
  align: readonly ('left' | 'right')[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, c) =>
    Math.max(3, title.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${widths
      .map((width, c) =>
        align[c] === 'right' ? (cells[c] ?? '').padStart(width) : (cells[c] ?? '').padEnd(width),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, c) => (align[c] === 'right' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width)))
    .join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The comparison as a Markdown table. */
export function markdownTable(report: QualityReport): string {
  return formatMarkdownTable(
    ['model', 'AUC ROC', 'Average precision', 'Card Precision@100'],
    ['left', 'right', 'right', 'right'],
    comparisonRows(report).map(([name, m]) => [
      name,
      fixed(m.auc),
      fixed(m.averagePrecision),
      fixed(m.cardPrecisionAt100),
    ]),
  );
}

/** The per-week detail of the headline figures as a Markdown table. */
export function markdownWeeks(report: QualityReport, startMs: number): string {
  return formatMarkdownTable(
    ['test week', 'transactions', 'frauds', 'AUC ROC', 'AP', 'CP@100'],
    ['left', 'right', 'right', 'right', 'right', 'right'],
    report.results.evaluation.weeks.map((week) => [
      dateOfSimDay(week.startDay, startMs),
      week.transactions.toLocaleString('en-US'),
      String(week.frauds),
      fixed(week.auc),
      fixed(week.averagePrecision),
      fixed(week.cardPrecisionAt100),
    ]),
  );
}
