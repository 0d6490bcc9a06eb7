export * from './types';
export * from './client';
export { isRecordTooLarge } from './kafka-errors';
