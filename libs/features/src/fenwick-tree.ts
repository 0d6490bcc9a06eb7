/**
 * A Fenwick (binary indexed) tree of integer counts: point increments and prefix sums, both in
 * O(log n). Integers keep the sums exact, so a risk never depends on the order of updates.
 */
export class FenwickTree {
  // A plain array: trees are many and small, and a typed array costs far more to allocate.
  private readonly tree: number[];

  /** A tree of `size` zero counts, indexed from 0. */
  constructor(size: number) {
    this.tree = new Array<number>(size + 1).fill(0);
  }

  /** Adds one to the count at `index`. */
  increment(index: number): void {
    for (let node = index + 1; node < this.tree.length; node += node & -node) {
      this.tree[node] = (this.tree[node] as number) + 1;
    }
  }

  /** The sum of the counts at indices `0 .. end - 1`. */
  prefixSum(end: number): number {
    let sum = 0;
    for (let node = end; node > 0; node -= node & -node) sum += this.tree[node] as number;
    return sum;
  }
}
