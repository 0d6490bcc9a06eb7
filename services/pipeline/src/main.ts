import { runServiceMain } from '@streamtrain/service-kit';
import { loadPipelineConfig } from './config';
import { createPipelineService } from './service';

runServiceMain({ name: 'pipeline', loadConfig: loadPipelineConfig, create: createPipelineService });
