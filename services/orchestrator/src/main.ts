import { runServiceMain } from '@streamtrain/service-kit';
import { loadOrchestratorConfig } from './config';
import { createOrchestratorService } from './service';

runServiceMain({
  name: 'orchestrator',
  loadConfig: loadOrchestratorConfig,
  create: createOrchestratorService,
});
