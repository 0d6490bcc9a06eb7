import type { SimulatorConfig } from './config';
import type { Random } from './random';

/** A simulated card holder (the handbook's customer profile). */
export interface CustomerProfile {
  /** Position in the customer table, from 0. */
  readonly index: number;
  /** `c<index>`. */
  readonly id: string;
  /** Home location on the grid. */
  readonly x: number;
  readonly y: number;
  /** Mean of the customer's normal amount distribution. */
  readonly meanAmount: number;
  /** Its standard deviation: half the mean. */
  readonly stdAmount: number;
  /** Mean of the customer's daily Poisson transaction count. */
  readonly meanTxPerDay: number;
}

/** A simulated payment terminal. */
export interface TerminalProfile {
  /** Position in the terminal table, from 0. */
  readonly index: number;
  /** `m<index>` (m for merchant). */
  readonly id: string;
  readonly x: number;
  readonly y: number;
}

/** Draws the customer table, in index order. */
export function generateCustomers(config: SimulatorConfig, random: Random): CustomerProfile[] {
  const customers: CustomerProfile[] = [];
  for (let index = 0; index < config.customers; index += 1) {
    const x = random.uniform(0, config.gridSize);
    const y = random.uniform(0, config.gridSize);
    const meanAmount = random.uniform(config.meanAmountMin, config.meanAmountMax);
    const meanTxPerDay = random.uniform(0, config.maxMeanTxPerDay);
    customers.push({
      index,
      id: `c${index}`,
      x,
      y,
      meanAmount,
      stdAmount: meanAmount / 2,
      meanTxPerDay,
    });
  }
  return customers;
}

/** Draws the terminal table, in index order. */
export function generateTerminals(config: SimulatorConfig, random: Random): TerminalProfile[] {
  const terminals: TerminalProfile[] = [];
  for (let index = 0; index < config.terminals; index += 1) {
    terminals.push({
      index,
      id: `m${index}`,
      x: random.uniform(0, config.gridSize),
      y: random.uniform(0, config.gridSize),
    });
  }
  return terminals;
}

/**
 * For each customer, the terminals strictly closer than the radius to home, in terminal order.
 * Stored as one flat array with offsets (about 400k indices at the handbook's size) rather than
 * 5,000 small arrays.
 */
export class TerminalReach {
  private readonly offsets: Int32Array;
  private readonly flat: Int32Array;

  private constructor(offsets: Int32Array, flat: Int32Array) {
    this.offsets = offsets;
    this.flat = flat;
  }

  /**
   * Computes every customer's reachable terminals. Terminals are bucketed in cells one radius
   * wide, so a customer checks only the 3 × 3 cells around home instead of every terminal.
   */
  static build(
    customers: readonly CustomerProfile[],
    terminals: readonly TerminalProfile[],
    radius: number,
    gridSize: number,
  ): TerminalReach {
    const cellsPerSide = Math.max(1, Math.ceil(gridSize / radius));
    const cellOf = (coordinate: number): number =>
      Math.min(cellsPerSide - 1, Math.max(0, Math.floor(coordinate / radius)));
    const cells: number[][] = Array.from({ length: cellsPerSide * cellsPerSide }, () => []);
    for (const terminal of terminals) {
      cells[cellOf(terminal.y) * cellsPerSide + cellOf(terminal.x)]?.push(terminal.index);
    }
    const radiusSquared = radius * radius;
    const offsets = new Int32Array(customers.length + 1);
    const flat: number[] = [];
    for (const customer of customers) {
      const reachable: number[] = [];
      const cx = cellOf(customer.x);
      const cy = cellOf(customer.y);
      for (let row = Math.max(0, cy - 1); row <= Math.min(cellsPerSide - 1, cy + 1); row += 1) {
        for (let col = Math.max(0, cx - 1); col <= Math.min(cellsPerSide - 1, cx + 1); col += 1) {
          for (const terminalIndex of cells[row * cellsPerSide + col] ?? []) {
            const terminal = terminals[terminalIndex] as TerminalProfile;
            const dx = terminal.x - customer.x;
            const dy = terminal.y - customer.y;
            if (dx * dx + dy * dy < radiusSquared) reachable.push(terminalIndex);
          }
        }
      }
      // Terminal order, not cell order, so the choice among them does not depend on bucketing.
      reachable.sort((a, b) => a - b);
      for (const terminalIndex of reachable) flat.push(terminalIndex);
      offsets[customer.index + 1] = flat.length;
    }
    return new TerminalReach(offsets, Int32Array.from(flat));
  }

  /** The terminals customer `customerIndex` can use, in terminal order (a view, not a copy). */
  terminalsOf(customerIndex: number): Int32Array {
    return this.flat.subarray(this.offsets[customerIndex], this.offsets[customerIndex + 1]);
  }

  /** How many terminals customer `customerIndex` can use. */
  count(customerIndex: number): number {
    return (this.offsets[customerIndex + 1] as number) - (this.offsets[customerIndex] as number);
  }
}
