import { createHash } from 'node:crypto';

/**
 * The id of the version trained on one batch: derived from the model and batch, so retraining a
 * batch after a crash produces the same id and can never register it twice.
 */
export function versionIdFor(modelName: string, batchId: string): string {
  return `${modelName}-${createHash('sha256').update(`${modelName}\u0000${batchId}`).digest('hex').slice(0, 16)}`;
}
