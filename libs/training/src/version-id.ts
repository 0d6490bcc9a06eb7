import { createHash } from 'node:crypto';

/**
 * The id of the version trained up to one batch (or window): derived from the model and that key,
 * so retraining after a crash produces the same id and can never register it twice.
 */
export function versionIdFor(modelName: string, key: string): string {
  return `${modelName}-${createHash('sha256').update(`${modelName}\u0000${key}`).digest('hex').slice(0, 16)}`;
}
