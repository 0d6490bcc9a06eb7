import { createLogger, runMain } from '@streamtrain/observability';
import { loadIngestConfig } from './config';
import { createIngestService } from './service';

const config = loadIngestConfig();
const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const service = createIngestService(config, logger, (error) => {
  logger.fatal(
    { err: error },
    'unrecoverable broker failure; exiting for the supervisor to restart',
  );
  void service.stop().finally(() => process.exit(1));
});
void runMain(service, { logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
