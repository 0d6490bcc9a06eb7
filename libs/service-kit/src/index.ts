export * from './event-service';
export * from './main-wrapper';
