export * from './event-service';
export * from './main-wrapper';
export * from './warehouse-link';
export * from './early-ops-server';
export * from './dependency-wait';
