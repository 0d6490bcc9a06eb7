import { readFile, readdir } from 'node:fs/promises';

// Linux reports CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`) on every common platform.
const TICKS_PER_SECOND = 100;

/** CPU ticks used so far, per group of processes, and by the whole machine. */
export interface CpuSnapshot {
  readonly atMs: number;
  /** Busy ticks over all cores (user, nice, system, irq, softirq, steal). */
  readonly machineBusy: number;
  /** Busy plus idle and iowait ticks over all cores. */
  readonly machineTotal: number;
  readonly byGroup: ReadonlyMap<string, number>;
}

/** Names a process from its pid, command name and command line; null leaves it in "other". */
export type ProcessClassifier = (pid: number, comm: string, cmdline: string) => string | null;

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy =
    (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** Every process's CPU ticks (utime + stime, all its threads), grouped by `classify`. */
export async function cpuSnapshot(classify: ProcessClassifier): Promise<CpuSnapshot> {
  const atMs = Date.now();
  const machine = await machineTicks();
  const byGroup = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let stat: string;
    let cmdline: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    } catch {
      continue; // exited meanwhile
    }
    // The command name is in parentheses and may hold spaces; fields resume after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const group = classify(pid, comm, cmdline) ?? 'other processes';
    byGroup.set(group, (byGroup.get(group) ?? 0) + ticks);
  }
  return { atMs, machineBusy: machine.busy, machineTotal: machine.total, byGroup };
}

/** CPU used between two snapshots. */
export interface CpuUsage {
  readonly wallSeconds: number;
  /** Share of all cores' time that was busy. */
  readonly machineBusyShare: number;
  /** Cores used on average, per group, largest first. */
  readonly cores: readonly { readonly group: string; readonly cores: number }[];
}

/** What happened between `before` and `after`. */
export function cpuUsage(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const wallSeconds = (after.atMs - before.atMs) / 1000;
  const total = after.machineTotal - before.machineTotal;
  const groups = new Set([...before.byGroup.keys(), ...after.byGroup.keys()]);
  const cores = [...groups]
    .map((group) => ({
      group,
      cores:
        Math.max(0, (after.byGroup.get(group) ?? 0) - (before.byGroup.get(group) ?? 0)) /
        TICKS_PER_SECOND /
        wallSeconds,
    }))
    .filter((entry) => entry.cores >= 0.005)
    .sort((a, b) => b.cores - a.cores);
  return {
    wallSeconds,
    machineBusyShare: total === 0 ? 0 : (after.machineBusy - before.machineBusy) / total,
    cores,
  };
}

/** The servers and the bench itself, by their usual command lines; `own` names processes we spawned. */
export function serverClassifier(own: ReadonlyMap<number, string>): ProcessClassifier {
  return (pid, comm, cmdline) => {
    const named = own.get(pid);
    if (named !== undefined) return named;
    if (pid === process.pid) return 'bench (this process)';
    if (comm === 'postgres') return 'PostgreSQL';
    if (comm === 'java' && cmdline.includes('kafka.Kafka')) return 'Kafka broker';
    if (comm === 'beam.smp') return 'RabbitMQ';
    if (comm === 'node' || comm === 'MainThread') return 'other Node processes';
    return null;
  };
}
