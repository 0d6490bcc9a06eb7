import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';

/** Which dead letters a re-drive takes. */
export interface RedriveFilter {
  /** Error codes to take (`x-dlq-code`); empty takes every code. */
  codes: readonly string[];
  /** Take only letters from this source topic (`x-dlq-source-topic`). */
  sourceTopic?: string;
  /** Send everything taken here instead of back to its source topic. */
  to?: string;
}

/** What to do with one dead letter. */
export type RedriveDecision =
  | { action: 'send'; topic: string; code: string }
  | { action: 'skip'; code: string; why: 'code' | 'source-topic' | 'file-source' | 'no-source' };

/** The header marking a re-driven message with the dead letter it came from. */
export const REDRIVEN_FROM_HEADER = 'x-redriven-from';

/**
 * Decides where a dead letter goes, from its headers. Letters of a file import (`file:<name>`)
 * have no topic to return to: the file is imported again instead.
 */
export function decideRedrive(
  headers: Readonly<Record<string, string | undefined>>,
  filter: RedriveFilter,
): RedriveDecision {
  const code = headers[DEAD_LETTER_HEADERS.code] ?? '(none)';
  const source = headers[DEAD_LETTER_HEADERS.sourceTopic];
  if (filter.codes.length > 0 && !filter.codes.includes(code))
    return { action: 'skip', code, why: 'code' };
  if (filter.sourceTopic !== undefined && source !== filter.sourceTopic)
    return { action: 'skip', code, why: 'source-topic' };
  if (filter.to !== undefined) return { action: 'send', topic: filter.to, code };
  if (source === undefined || source === '') return { action: 'skip', code, why: 'no-source' };
  if (source.startsWith('file:')) return { action: 'skip', code, why: 'file-source' };
  return { action: 'send', topic: source, code };
}
