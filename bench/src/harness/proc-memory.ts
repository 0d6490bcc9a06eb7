import { readFile } from 'node:fs/promises';

/** Memory of a process from `/proc/<pid>/status`, in MiB. */
export interface ProcessMemory {
  /** Resident set size now. */
  readonly rssMiB: number;
  /** Peak resident set size over the process's life (the kernel's high-water mark). */
  readonly hwmMiB: number;
}

const KIB_PER_MIB = 1024;

/** Reads VmRSS and VmHWM of `pid`; null when the process is gone (or not on Linux). */
export async function readProcessMemory(pid: number): Promise<ProcessMemory | null> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? 0 : Number(match[1]) / KIB_PER_MIB;
  };
  return { rssMiB: field('VmRSS'), hwmMiB: field('VmHWM') };
}

/** Peak memory of one process as a benchmark reports it. */
export interface PeakMemory {
  /** The kernel's high-water mark (VmHWM), read just before the process was stopped. */
  readonly vmHwmMiB: number | null;
  /** Largest VmRSS seen by sampling. */
  readonly maxSampledRssMiB: number | null;
  readonly samples: number;
}

/** Samples a process's RSS at an interval; `finish()` adds the final VmHWM. */
export class MemorySampler {
  private maxRss = 0;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<ProcessMemory | null> {
    const memory = await readProcessMemory(this.pid);
    if (memory !== null) {
      this.samples += 1;
      this.maxRss = Math.max(this.maxRss, memory.rssMiB);
    }
    return memory;
  }

  /** Stops sampling; call while the process still runs so VmHWM can be read. */
  async finish(): Promise<PeakMemory> {
    clearInterval(this.timer);
    const last = await this.sample();
    return {
      vmHwmMiB: last === null ? null : Math.round(last.hwmMiB),
      maxSampledRssMiB: this.samples === 0 ? null : Math.round(this.maxRss),
      samples: this.samples,
    };
  }
}
