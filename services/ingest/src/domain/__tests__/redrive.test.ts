import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import { decideRedrive } from '../redrive';

const letter = (code: string, sourceTopic: string): Record<string, string> => ({
  [DEAD_LETTER_HEADERS.code]: code,
  [DEAD_LETTER_HEADERS.sourceTopic]: sourceTopic,
});

describe('decideRedrive', () => {
  it('when no filter is set, then a letter goes back to its source topic', () => {
    expect(decideRedrive(letter('CONTRACT_UNKNOWN_VERSION', 'tx.web'), { codes: [] })).toEqual({
      action: 'send',
      topic: 'tx.web',
      code: 'CONTRACT_UNKNOWN_VERSION',
    });
  });

  it('when codes or a source topic are given, then other letters are skipped', () => {
    const filter = { codes: ['CONTRACT_UNKNOWN_VERSION'], sourceTopic: 'tx.web' };
    expect(decideRedrive(letter('CONTRACT_SCHEMA_MISMATCH', 'tx.web'), filter)).toMatchObject({
      action: 'skip',
      why: 'code',
    });
    expect(decideRedrive(letter('CONTRACT_UNKNOWN_VERSION', 'tx.pos'), filter)).toMatchObject({
      action: 'skip',
      why: 'source-topic',
    });
  });

  it('when a letter came from a file import, then it is skipped unless a target topic is named', () => {
    const fromFile = letter('CONTRACT_SCHEMA_MISMATCH', 'file:export.csv');
    expect(decideRedrive(fromFile, { codes: [] })).toMatchObject({ why: 'file-source' });
    expect(decideRedrive(fromFile, { codes: [], to: 'tx.file' })).toMatchObject({
      action: 'send',
      topic: 'tx.file',
    });
  });
});
