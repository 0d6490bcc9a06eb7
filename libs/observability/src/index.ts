export * from './logger';
export * from './metrics';
export * from './health';
export * from './http-server';
export * from './lifecycle';
export * from './retry';
