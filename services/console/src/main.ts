import { runServiceMain } from '@streamtrain/service-kit';
import { loadConsoleConfig } from './config';
import { createConsoleService } from './service';

runServiceMain({
  name: 'console',
  loadConfig: loadConsoleConfig,
  create: (config, logger) => createConsoleService(config, logger),
});
