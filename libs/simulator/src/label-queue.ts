import type { LabelEvent } from './events';

interface Entry {
  readonly atMs: number;
  /** Insertion order: labels due at the same instant leave in the order they were queued. */
  readonly sequence: number;
  readonly event: LabelEvent;
}

function before(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
}

/**
 * Labels waiting for their `reportedAt`, as a binary min-heap. It holds only the labels of the
 * last few days' fraud (hundreds at the handbook's size), whatever the length of the simulation.
 */
export class LabelQueue {
  private readonly heap: Entry[] = [];
  private sequence = 0;

  /** Number of labels waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `event`, due at `atMs`. */
  push(atMs: number, event: LabelEvent): void {
    const heap = this.heap;
    heap.push({ atMs, sequence: this.sequence++, event });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index] as Entry, heap[parent] as Entry)) break;
      [heap[index], heap[parent]] = [heap[parent] as Entry, heap[index] as Entry];
      index = parent;
    }
  }

  /** When the earliest label is due, or `Infinity` when none waits. */
  nextDueMs(): number {
    return this.heap[0]?.atMs ?? Infinity;
  }

  /** Removes and returns the earliest label. */
  pop(): LabelEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top?.event;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && before(heap[left] as Entry, heap[smallest] as Entry)) {
        smallest = left;
      }
      if (right < heap.length && before(heap[right] as Entry, heap[smallest] as Entry)) {
        smallest = right;
      }
      if (smallest === index) break;
      [heap[index], heap[smallest]] = [heap[smallest] as Entry, heap[index] as Entry];
      index = smallest;
    }
    return top.event;
  }
}
