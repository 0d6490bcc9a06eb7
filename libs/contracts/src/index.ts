export * from './errors';
export * from './transaction';
export * from './events';
export * from './dead-letter';
export * from './decode';
export * from './topics';
export * from './score';
export * from './published';
