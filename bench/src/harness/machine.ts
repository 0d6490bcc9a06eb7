import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a benchmark ran on, and how busy it was. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly node: string;
  /** The TensorFlow.js backend `loadBackend('auto')` picks here (what the trainer runs on). */
  readonly tfjsBackend: string;
  /** 1, 5 and 15-minute load averages when the benchmark started. */
  readonly loadAverageStart: readonly number[];
  /** The same when it ended. */
  readonly loadAverageEnd: readonly number[];
}

/** Load averages rounded to two decimals. */
export function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/** What does not change during a run: everything but the load averages. */
export type MachineBase = Omit<MachineInfo, 'loadAverageStart' | 'loadAverageEnd'>;

/** Describes this machine; `tfjsBackend` comes from the caller (it needs tfjs loaded). */
export function describeMachine(tfjsBackend: string): MachineBase {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    tfjsBackend,
  };
}

/** One line for a report: "2 × AMD EPYC, 23.4 GiB, Node v20, tfjs wasm, load 2.1 → 2.6". */
export function formatMachine(machine: MachineInfo): string {
  const load = (values: readonly number[]): string => values.map((v) => v.toFixed(2)).join(' ');
  return (
    `${machine.cores} × ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}, ` +
    `tfjs backend \`${machine.tfjsBackend}\`, load average (1/5/15 min) ${load(machine.loadAverageStart)} at start, ` +
    `${load(machine.loadAverageEnd)} at end`
  );
}
