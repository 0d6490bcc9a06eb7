import { Coalescer } from '../coalescer';

describe('Coalescer', () => {
  it('when items arrive together, then they are handled in one pass, and each caller hears when it is done', async () => {
    const passes: number[][] = [];
    const coalescer = new Coalescer<number>(async (items) => void passes.push([...items]), {
      maxItems: 10,
      lingerMs: 5,
    });
    await Promise.all([1, 2, 3].map((n) => coalescer.submit(n)));
    expect(passes).toEqual([[1, 2, 3]]);
  });

  it('caps a pass at maxItems and runs passes one after another, in order', async () => {
    const passes: number[][] = [];
    let active = 0;
    const coalescer = new Coalescer<number>(
      async (items) => {
        active += 1;
        expect(active).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        passes.push([...items]);
        active -= 1;
      },
      { maxItems: 2, lingerMs: 50 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => coalescer.submit(n)));
    expect(passes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('when a pass fails, then every item of it is rejected and later passes still run', async () => {
    let fail = true;
    const coalescer = new Coalescer<number>(
      async () => {
        if (fail) throw new Error('warehouse down');
      },
      { maxItems: 5, lingerMs: 1 },
    );
    const first = Promise.allSettled([coalescer.submit(1), coalescer.submit(2)]);
    expect((await first).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(coalescer.submit(3)).resolves.toBeUndefined();
  });

  it('when a pass returns a commit stage, then the next pass prepares while it commits, commits run in order, and each caller hears after its commit', async () => {
    const log: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstCommitGate = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const coalescer = new Coalescer<number>(
      async (items) => {
        log.push(`prepare ${items.join()}`);
        return async () => {
          if (items[0] === 1) await firstCommitGate;
          log.push(`commit ${items.join()}`);
        };
      },
      { maxItems: 1, lingerMs: 1 },
    );
    const first = coalescer.submit(1);
    const second = coalescer.submit(2);
    const third = coalescer.submit(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Pass 2 prepared while pass 1 commits; pass 3 waits for pass 1's commit.
    expect(log).toEqual(['prepare 1', 'prepare 2']);
    releaseFirst();
    await Promise.all([first, second, third]);
    expect(log.filter((entry) => entry.startsWith('commit'))).toEqual([
      'commit 1',
      'commit 2',
      'commit 3',
    ]);
    expect(log.indexOf('prepare 3')).toBeGreaterThan(log.indexOf('commit 1'));
  });
});
