import type { QualityReport } from './report';

/** Placeholder until the document template is written. */
export function renderQualityMarkdown(report: QualityReport, _startMs: number): string {
  return `# Quality\n\n${JSON.stringify(report.results.auc)}\n`;
}
