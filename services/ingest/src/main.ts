import { runServiceMain } from '@streamtrain/service-kit';
import { loadIngestConfig } from './config';
import { createIngestService } from './service';

runServiceMain({ name: 'ingest', loadConfig: loadIngestConfig, create: createIngestService });
