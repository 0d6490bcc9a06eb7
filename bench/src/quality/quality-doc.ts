import type { QualityReport } from './report';
import { markdownTable, markdownWeeks } from './report';
import { dateOfSimDay } from './sim-time';

const BEGIN = '<!-- quality:results:begin -->';
const END = '<!-- quality:results:end -->';

const n = (value: number): string => Math.round(value).toLocaleString('en-US');

function microBatchText(microBatch: unknown): string {
  const batch = microBatch as { kind: 'time'; ms: number } | { kind: 'events'; count: number };
  return batch.kind === 'time'
    ? `${batch.ms / 60_000} minutes of event time`
    : `${batch.count} events`;
}

/** The generated part of `QUALITY.md`: this run's figures, plot, and facts. */
export function renderResultsSection(report: QualityReport, startMs: number): string {
  const { config, machine, results } = report;
  const { replay } = results;
  const period = config.testPeriod;
  const lastTestDay = period.startDay + 7 * period.weeks - 1;
  const timings = Object.entries(replay.timings as unknown as Readonly<Record<string, number>>)
    .map(([step, seconds]) => `${step} ${seconds.toFixed(0)} s`)
    .join(', ');
  const rejections = Object.entries(replay.rejections)
    .map(([reason, count]) => `${reason}: ${n(count)}`)
    .join('; ');
  const rate = replay.transactions === 0 ? 0 : (100 * replay.frauds) / replay.transactions;
  return [
    BEGIN,
    '<!-- Written by bench/src/quality/main.ts on every run; edit outside these markers. -->',
    '',
    `Run of ${report.generatedAt.slice(0, 10)}: \`${report.command}\`, ` +
      `${report.durationSeconds.toFixed(0)} s of replay on ${machine.cpus} × ${machine.cpuModel} ` +
      `(${machine.memGiB} GiB, Node ${machine.node}, tfjs backend \`${machine.tfjsBackend}\`).`,
    '',
    `Test weeks: ${period.weeks}, from ${period.firstDate} to ${period.lastDate} ` +
      `(simulated days ${period.startDay}–${lastTestDay} of ${config.days}, starting ` +
      `${dateOfSimDay(0, startMs)}). The model trained continuously from day 0; the 7 days before ` +
      `the first test week (${dateOfSimDay(period.startDay - 7, startMs)} to ` +
      `${dateOfSimDay(period.startDay - 1, startMs)}) are the delay period of the first fold. ` +
      `${n(results.testTransactions)} test transactions, ${n(results.testFrauds)} of them fraud, ` +
      'after removing the cards already known to be compromised.',
    '',
    markdownTable(report),
    '',
    '![Rolling average precision and promotions per day](quality-rolling-ap.svg)',
    '',
    '![Staleness: rolling AP of the continuous model and the batch peers](quality-staleness.svg)',
    '',
    'Per test week (the headline figures are the means of these, as in the handbook; pooled over ' +
      `all test weeks at once: AUC ${results.evaluation.pooled.auc?.toFixed(3) ?? 'n/a'}, AP ` +
      `${results.evaluation.pooled.averagePrecision?.toFixed(3) ?? 'n/a'}):`,
    '',
    markdownWeeks(report, startMs),
    '',
    `Replay: ${n(replay.transactions)} transactions (${n(replay.frauds)} fraud, ${rate.toFixed(2)} %), ` +
      `${n(replay.labels)} fraud labels, ${n(replay.batches)} micro-batches of ` +
      `${microBatchText(config.microBatch)}; ${n(replay.examples.total)} examples matured ` +
      `(${n(replay.examples.positives)} fraud, ${n(replay.examples.holdout)} held out, ` +
      `${n(replay.examples.corrected)} corrected by a late label); ${n(results.versions)} ` +
      `versions trained, ${n(results.promotions)} ` +
      `promoted (kept out: ${rejections || 'none'}), each step on at least ` +
      `${n(Number(config.minTrainExamples))} examples; ${n(replay.batchesWithoutExamples)} ` +
      `micro-batches matured no example; ${n(replay.unscored)} ` +
      'transactions arrived before the first champion. Batch peers (`retrainOnWindow`, ' +
      `${String(config.peerEpochs)} epochs, every retrain deployed): frozen trained once on day ` +
      `${String(results.peers.frozen.firstDay)} on every matured example before it; weekly ` +
      `retrained ${n(results.peers.weekly.retrains)} times, each on the ` +
      `${String(config.peerWindowDays)} days of examples ending at the maturity horizon. ` +
      `Trainer: ${trainerText(config)}. ` +
      `Wall time by step: ${timings}.`,
    END,
  ].join('\n');
}

/** The trainer options of a run, as its config records them. */
function trainerText(config: Readonly<Record<string, unknown>>): string {
  const gate = config.gate as { kind?: string } | undefined;
  const text = (value: unknown): string => JSON.stringify(value ?? null);
  const change = config.patternChangeDay;
  return (
    `gate \`${gate?.kind ?? 'tolerance'}\`, replay buffer ${text(config.replayBuffer)}, ` +
    `warm start from ${text(config.warmStartFrom)}, holdout settled ` +
    `${text(config.holdoutSettledDays)} days, weight averaging ${text(config.weightAveraging ?? 0)}` +
    (typeof change === 'number' ? `; fraud patterns change on day ${change}` : '')
  );
}

/**
 * `QUALITY.md` with this run's section: the section between the markers of `existing` is
 * replaced, so hand-written text around it survives a re-run; without markers (or no file),
 * `template` is used with the section in place of `{{results}}`.
 */
export function updateQualityDoc(
  existing: string | null,
  template: string,
  section: string,
): string {
  if (existing !== null) {
    const begin = existing.indexOf(BEGIN);
    const end = existing.indexOf(END);
    if (begin !== -1 && end > begin) {
      return existing.slice(0, begin) + section + existing.slice(end + END.length);
    }
  }
  return template.replace('{{results}}', section);
}
