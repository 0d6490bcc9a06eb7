import { Counter, Histogram } from '@streamtrain/observability';
import type { Registry } from '@streamtrain/observability';

/** The orchestrator's Prometheus metrics. */
export interface OrchestratorMetrics {
  runs: Counter<'workflow' | 'status'>;
  stepSeconds: Histogram<'workflow' | 'step' | 'outcome'>;
  triggers: Counter<'kind'>;
}

/** Registers the orchestrator's metrics on `registry`. */
export function createOrchestratorMetrics(registry: Registry): OrchestratorMetrics {
  return {
    runs: new Counter({
      name: 'streamtrain_orchestrator_runs_total',
      help: 'Workflow runs finished, by workflow and status.',
      labelNames: ['workflow', 'status'],
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: 'streamtrain_orchestrator_step_seconds',
      help: 'Duration of workflow steps.',
      labelNames: ['workflow', 'step', 'outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers: [registry],
    }),
    triggers: new Counter({
      name: 'streamtrain_orchestrator_triggers_total',
      help: 'Data-driven trigger firings and automatic rollbacks.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
