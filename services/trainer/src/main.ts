import { runServiceMain } from '@streamtrain/service-kit';
import { loadTrainerConfig } from './config';
import { createTrainerService } from './service';

runServiceMain({ name: 'trainer', loadConfig: loadTrainerConfig, create: createTrainerService });
