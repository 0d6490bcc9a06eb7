import type { Pool } from '@streamtrain/warehouse';
import {
  readLoopProgress,
  readOutboxBacklog,
  readRecentRows,
  readRegistryHistory,
} from '@streamtrain/warehouse';
import type { LoopProgress, OutboxBacklog } from '@streamtrain/warehouse';
import { qualityFigures, secondsBetween } from '../domain/staleness';
import type { QualityFigures } from '../domain/staleness';
import type { ConsoleMetrics } from './console-metrics';

/** A registry version for the page's chart and table. */
export interface VersionView {
  versionId: string;
  version: number;
  status: string;
  gateReason: string;
  createdAt: string;
  trainedSamples: number;
  labelCutoff: string | null;
  holdout: QualityFigures;
  championOnHoldout: QualityFigures;
  isChampion: boolean;
  /**
   * `promoted` (became champion), `refused` (the gate said no) or `rolled back` (promoted, but
   * the champion alias now points at an older version).
   */
  decision: 'promoted' | 'refused' | 'rolled back';
}

/** The registry of the console's model. */
export interface RegistryView {
  modelName: string;
  versions: VersionView[];
  champion: VersionView | null;
  lastPromotionAt: string | null;
  secondsSinceLastPromotion: number | null;
  promotions: number;
  refusals: number;
  rollbacks: number;
}

/** How far the loop has got, with the derived lags. */
export interface LoopView extends LoopProgress {
  labelLagSeconds: number | null;
  watermarkDelaySeconds: number | null;
  watermarkAgeSeconds: number | null;
}

/** A table another service owns, shown when it exists. */
export interface OptionalTableView {
  table: string;
  exists: boolean;
  rows: Record<string, unknown>[];
}

/** Everything the console reads from the warehouse. */
export interface WarehouseReport {
  registry: RegistryView | null;
  loop: LoopView | null;
  outbox: (OutboxBacklog & { oldestAgeSeconds: number | null })[];
  runs: OptionalTableView;
  liveQuality: OptionalTableView;
  errors: Record<string, string>;
}

/** Options of {@link WarehouseReader}. */
export interface WarehouseReaderOptions {
  pool: Pool;
  modelName: string;
  registryLimit: number;
  outboxTables: readonly string[];
  runsTable: string;
  liveQualityTable: string;
  tableRows: number;
  metrics: ConsoleMetrics;
}

/**
 * Reads the registry, the loop's progress, the outbox backlogs and the optional tables (the
 * orchestrator's runs, the scorer's live quality) through `@streamtrain/warehouse`, and sets the
 * staleness, label-lag, watermark and outbox gauges. Each part fails on its own.
 */
export class WarehouseReader {
  private report: WarehouseReport;

  constructor(private readonly options: WarehouseReaderOptions) {
    this.report = {
      registry: null,
      loop: null,
      outbox: [],
      runs: { table: options.runsTable, exists: false, rows: [] },
      liveQuality: { table: options.liveQualityTable, exists: false, rows: [] },
      errors: {},
    };
  }

  /** The last read. */
  current(): WarehouseReport {
    return this.report;
  }

  /** Reads everything once. Never throws: each failing part is reported by name. */
  async poll(): Promise<void> {
    const now = new Date().toISOString();
    const errors: Record<string, string> = {};
    const part = async <T>(name: string, read: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await read();
      } catch (error) {
        errors[name] = (error as Error).message;
        return fallback;
      }
    };
    const { pool } = this.options;
    const [registry, loop, outbox, runs, liveQuality] = await Promise.all([
      part('registry', () => this.readRegistry(now), this.report.registry),
      part('loop', () => this.readLoop(now), this.report.loop),
      part(
        'outbox',
        async () =>
          (await readOutboxBacklog(pool, this.options.outboxTables)).map((backlog) => ({
            ...backlog,
            oldestAgeSeconds: secondsBetween(backlog.oldestCreatedAt, now),
          })),
        this.report.outbox,
      ),
      part('runs', () => this.readOptional(this.options.runsTable), this.report.runs),
      part(
        'liveQuality',
        () => this.readOptional(this.options.liveQualityTable),
        this.report.liveQuality,
      ),
    ]);
    for (const backlog of outbox) {
      const name = backlog.table.replace(/_outbox$/, '');
      this.options.metrics.outboxBacklog.set({ outbox: name }, backlog.pending);
      this.options.metrics.outboxOldestAge.set({ outbox: name }, backlog.oldestAgeSeconds ?? 0);
    }
    this.report = { registry, loop, outbox, runs, liveQuality, errors };
  }

  private async readOptional(table: string): Promise<OptionalTableView> {
    const rows = await readRecentRows(this.options.pool, table, this.options.tableRows);
    return { table, exists: rows !== null, rows: rows ?? [] };
  }

  private async readLoop(now: string): Promise<LoopView> {
    const progress = await readLoopProgress(this.options.pool);
    const view: LoopView = {
      ...progress,
      labelLagSeconds: secondsBetween(progress.maturedUntil, progress.streamHead),
      watermarkDelaySeconds: secondsBetween(progress.watermark, progress.streamHead),
      watermarkAgeSeconds: secondsBetween(progress.lastPipelineBatchAt, now),
    };
    const m = this.options.metrics;
    if (view.labelLagSeconds !== null) m.labelLag.set(view.labelLagSeconds);
    if (view.watermarkDelaySeconds !== null) m.watermarkDelay.set(view.watermarkDelaySeconds);
    if (view.watermarkAgeSeconds !== null) m.watermarkAge.set(view.watermarkAgeSeconds);
    m.pipelineBacklog.set(view.batchesAwaitingPipeline);
    return view;
  }

  private async readRegistry(now: string): Promise<RegistryView> {
    const { modelName } = this.options;
    const history = await readRegistryHistory(
      this.options.pool,
      modelName,
      this.options.registryLimit,
    );
    const versions: VersionView[] = history.versions.map((entry) => ({
      versionId: entry.versionId,
      version: entry.version,
      status: entry.status,
      gateReason: entry.gateReason,
      createdAt: entry.createdAt,
      trainedSamples: entry.trainedSamples,
      labelCutoff: entry.labelCutoff,
      holdout: qualityFigures(entry.metrics),
      championOnHoldout: qualityFigures(entry.championMetrics),
      isChampion: entry.versionId === history.championVersionId,
      decision: entry.status === 'rejected' ? 'refused' : 'promoted',
    }));
    const champion = versions.find((version) => version.isChampion) ?? null;
    for (const version of versions) {
      if (
        version.decision === 'promoted' &&
        champion !== null &&
        version.version > champion.version
      )
        version.decision = 'rolled back';
    }
    const promoted = versions.filter((version) => version.decision !== 'refused');
    const lastPromotionAt = promoted[promoted.length - 1]?.createdAt ?? history.championSince;
    const m = this.options.metrics;
    if (champion !== null) {
      m.championVersion.set({ model: modelName }, champion.version);
      if (champion.holdout.averagePrecision !== null)
        m.championAveragePrecision.set({ model: modelName }, champion.holdout.averagePrecision);
      if (champion.holdout.auc !== null)
        m.championAuc.set({ model: modelName }, champion.holdout.auc);
      if (champion.labelCutoff !== null)
        m.championLabelCutoff.set({ model: modelName }, Date.parse(champion.labelCutoff) / 1000);
    }
    if (lastPromotionAt !== null)
      m.lastPromotion.set({ model: modelName }, Date.parse(lastPromotionAt) / 1000);
    return {
      modelName,
      versions,
      champion,
      lastPromotionAt,
      secondsSinceLastPromotion: secondsBetween(lastPromotionAt, now),
      promotions: promoted.length,
      refusals: versions.length - promoted.length,
      rollbacks: versions.filter((version) => version.decision === 'rolled back').length,
    };
  }
}
