/** The result of probing one instance of a service. */
export interface InstanceProbe {
  url: string;
  /** `/healthz` answered 200. */
  alive: boolean;
  /** `/readyz` answered 200. */
  ready: boolean;
  /** The failing readiness checks, by name, as `/readyz` reported them. */
  failingChecks: string[];
  error: string | null;
}

/** Overall state of a service: every instance alive and ready, some alive but unready, or none alive. */
export type ServiceState = 'up' | 'degraded' | 'down';

/** A service's state over its instances. */
export function serviceState(probes: readonly InstanceProbe[]): ServiceState {
  const alive = probes.filter((probe) => probe.alive);
  if (alive.length === 0) return 'down';
  return alive.length === probes.length && alive.every((probe) => probe.ready) ? 'up' : 'degraded';
}
