import { runServiceMain } from '@streamtrain/service-kit';
import { loadScorerConfig } from './config';
import { createScorerService } from './service';

runServiceMain({ name: 'scorer', loadConfig: loadScorerConfig, create: createScorerService });
