export * from './pool';
export * from './migrate';
export * from './outbox';
export * from './ingest-store';
export * from './pipeline-store';
export * from './registry-store';
export * from './ops-reads';
