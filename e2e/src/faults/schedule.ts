/** Every kind of fault the suite injects. */
export const FAULT_KINDS = [
  'sigkill',
  'sigterm',
  'sigstop',
  'pg-terminate',
  'pg-restart',
  'kafka-restart',
  'rabbitmq-restart',
] as const;
/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The services a process fault may hit. */
export const TARGETS = ['ingest', 'pipeline', 'trainer'] as const;

/** One scheduled fault. */
export interface ScheduledFault {
  kind: FaultKind;
  /** The service a process fault hits. */
  target: (typeof TARGETS)[number];
  /** Milliseconds after the previous recovery before injecting: lands mid-batch or mid-publish. */
  delayMs: number;
}

/** mulberry32: a small seeded PRNG, so a schedule is reproduced by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `perKind` faults of each kind in `kinds`, shuffled by `seed`; process faults cycle through the
 * services so each is hit about as often (SIGSTOP always freezes ingest: the consumer group is
 * what it tests), each after a random pause of 0.2–2.2 s.
 */
export function buildSchedule(
  kinds: readonly FaultKind[],
  perKind: number,
  seed: number,
): ScheduledFault[] {
  const random = seededRandom(seed);
  const faults: ScheduledFault[] = [];
  for (const [k, kind] of kinds.entries()) {
    for (let i = 0; i < perKind; i += 1) {
      faults.push({
        kind,
        // Offset by kind, so even one fault of each kind spreads over the services.
        target: TARGETS[(i + k) % TARGETS.length] as ScheduledFault['target'],
        delayMs: 200 + Math.floor(random() * 2_000),
      });
    }
  }
  for (let i = faults.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j] as ScheduledFault, faults[i] as ScheduledFault];
  }
  return faults;
}
