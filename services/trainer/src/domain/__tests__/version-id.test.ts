import { versionIdFor } from '../version-id';

describe('versionIdFor', () => {
  it('when the same batch is trained again, then the version id is the same', () => {
    expect(versionIdFor('fraud', 'tx.web:0:0-99')).toBe(versionIdFor('fraud', 'tx.web:0:0-99'));
  });

  it('gives different ids to different batches and models', () => {
    const ids = new Set([
      versionIdFor('fraud', 'a'),
      versionIdFor('fraud', 'b'),
      versionIdFor('other', 'a'),
    ]);
    expect(ids.size).toBe(3);
    expect(versionIdFor('fraud', 'a')).toMatch(/^fraud-[0-9a-f]{16}$/);
  });
});
