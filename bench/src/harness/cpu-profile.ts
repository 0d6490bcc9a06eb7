import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) read here. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[];
  }[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Where a process's main thread spent its time, by what the code is. */
export interface CpuBreakdown {
  /** Sampled wall time counted: the window in which the code of interest ran. */
  readonly profiledSeconds: number;
  /** Time the main thread was busy (not idle). */
  readonly busySeconds: number;
  /** Share of the busy time per category, largest first. */
  readonly categories: readonly { readonly category: string; readonly share: number }[];
  /** The busiest functions by self time, with their category. */
  readonly topFunctions: readonly {
    readonly name: string;
    readonly category: string;
    readonly share: number;
  }[];
}

// First match wins; matched against the script URL of a frame.
const CATEGORIES: readonly [RegExp, string][] = [
  [/node_modules\/zod\/|libs\/contracts\//, 'validation (zod, contracts)'],
  [/node_modules\/kafkajs\/|libs\/kafka\//, 'Kafka client (kafkajs)'],
  [/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pg-copy-streams|postgres-\w+)\//, 'pg client'],
  [/libs\/warehouse\//, 'warehouse write (COPY text, SQL)'],
  [/services\/ingest\//, 'ingest handler (classify, records)'],
  [/node_modules\/(pino|sonic-boom|thread-stream)/, 'logging (pino)'],
  [/node_modules\/(prom-client|fastify)/, 'metrics and HTTP'],
  [/node_modules\/amqplib/, 'RabbitMQ client'],
  [/^node:|internal\//, 'Node core (streams, buffers, sockets)'],
];

function categoryOfUrl(url: string): string | null {
  if (url === '') return null;
  for (const [pattern, category] of CATEGORIES) if (pattern.test(url)) return category;
  return 'other JavaScript';
}

const SPECIAL: Readonly<Record<string, string>> = {
  '(garbage collector)': 'garbage collection',
  '(program)': 'V8 and native (unattributed)',
  '(idle)': 'idle',
  '(root)': 'V8 and native (unattributed)',
};

/**
 * Sums a profile's self time by category. A native frame (no URL: a builtin such as `JSON.parse`
 * or a regular expression) counts for the nearest caller that has one, so the time zod spends in
 * regular expressions counts as validation. With `window`, only the samples from the first to the
 * last whose stack holds a frame from a matching script count: start-up (module loading,
 * migrations) and shutdown stay out.
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
  options: { top?: number; window?: RegExp } = {},
): CpuBreakdown {
  const top = options.top ?? 12;
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const categoryCache = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id);
    const special = node === undefined ? undefined : SPECIAL[node.callFrame.functionName];
    let category: string;
    if (node === undefined) category = 'V8 and native (unattributed)';
    else if (special !== undefined && node.callFrame.url === '') category = special;
    else {
      const own = categoryOfUrl(node.callFrame.url);
      const up = parent.get(id);
      category = own ?? (up === undefined ? 'V8 and native (unattributed)' : categoryOf(up));
    }
    categoryCache.set(id, category);
    return category;
  };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let first = 0;
  let last = samples.length - 1;
  if (options.window !== undefined) {
    const pattern = options.window;
    const inWindow = new Map<number, boolean>();
    const matches = (id: number): boolean => {
      const known = inWindow.get(id);
      if (known !== undefined) return known;
      const up = parent.get(id);
      const result =
        pattern.test(byId.get(id)?.callFrame.url ?? '') || (up !== undefined && matches(up));
      inWindow.set(id, result);
      return result;
    };
    first = samples.findIndex((id) => matches(id));
    last = samples.findLastIndex((id) => matches(id));
    if (first < 0) throw new Error(`no sample of ${String(pattern)} in the profile`);
  }
  const selfMicros = new Map<number, number>();
  let total = 0;
  for (let i = first; i <= last; i += 1) {
    // A sample's delta is the time before it; the next delta is the time it stood for.
    const micros = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    const id = samples[i] as number;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + micros);
    total += micros;
  }
  const perCategory = new Map<string, number>();
  const perFunction = new Map<string, { category: string; micros: number }>();
  for (const [id, micros] of selfMicros) {
    const category = categoryOf(id);
    perCategory.set(category, (perCategory.get(category) ?? 0) + micros);
    const frame = byId.get(id)?.callFrame;
    const file = frame?.url.replace(/^.*\/(node_modules|libs|services)\//, '$1/') ?? '';
    const name = `${frame?.functionName || '(anonymous)'}${file === '' ? '' : ` ${file}`}`;
    const entry = perFunction.get(name) ?? { category, micros: 0 };
    entry.micros += micros;
    perFunction.set(name, entry);
  }
  const idle = perCategory.get('idle') ?? 0;
  const busy = total - idle;
  perCategory.delete('idle');
  const share = (micros: number): number => (busy === 0 ? 0 : micros / busy);
  return {
    profiledSeconds: total / 1e6,
    busySeconds: busy / 1e6,
    categories: [...perCategory]
      .sort((a, b) => b[1] - a[1])
      .map(([category, micros]) => ({ category, share: share(micros) })),
    topFunctions: [...perFunction]
      .filter(([, entry]) => entry.category !== 'idle')
      .sort((a, b) => b[1].micros - a[1].micros)
      .slice(0, top)
      .map(([name, entry]) => ({ name, category: entry.category, share: share(entry.micros) })),
  };
}

/** Reads the one `.cpuprofile` that `node --cpu-prof --cpu-prof-dir=<dir>` left in `dir`. */
export async function readCpuProfile(dir: string): Promise<CpuProfile> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
  const file = files[0];
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
}
