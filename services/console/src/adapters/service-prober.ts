import type { ServiceTarget } from '../config';
import { serviceState } from '../domain/service-status';
import type { InstanceProbe, ServiceState } from '../domain/service-status';

/** A service's health over its instances, as the page shows it. */
export interface ServiceHealth {
  name: string;
  state: ServiceState;
  instancesAlive: number;
  instancesConfigured: number;
  /** Last time any instance answered `/healthz`. */
  lastHeartbeat: string | null;
  instances: InstanceProbe[];
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a non-JSON answer is shown as text
  }
  return { status: response.status, body };
}

async function probe(url: string, timeoutMs: number): Promise<InstanceProbe> {
  try {
    const health = await getJson(`${url}/healthz`, timeoutMs);
    if (health.status !== 200) {
      return {
        url,
        alive: false,
        ready: false,
        failingChecks: [],
        error: `healthz ${health.status}`,
      };
    }
    const ready = await getJson(`${url}/readyz`, timeoutMs);
    const checks =
      typeof ready.body === 'object' && ready.body !== null && 'checks' in ready.body
        ? (ready.body.checks as Record<string, { ok: boolean }>)
        : {};
    return {
      url,
      alive: true,
      ready: ready.status === 200,
      failingChecks: Object.entries(checks)
        .filter(([, check]) => !check.ok)
        .map(([name]) => name),
      error: null,
    };
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return {
      url,
      alive: false,
      ready: false,
      failingChecks: [],
      error: cause?.code ?? (error as Error).message,
    };
  }
}

/** Probes `/healthz` and `/readyz` of every configured instance and remembers the last heartbeat. */
export class ServiceProber {
  private readonly heartbeats = new Map<string, string>();
  private health: ServiceHealth[] = [];

  constructor(
    private readonly targets: readonly ServiceTarget[],
    private readonly timeoutMs = 1_500,
  ) {}

  /** Probes every instance once. */
  async poll(): Promise<void> {
    const probes = await Promise.all(
      this.targets.map(async (target) => ({
        target,
        probe: await probe(target.url, this.timeoutMs),
      })),
    );
    const now = new Date().toISOString();
    const names = [...new Set(this.targets.map((target) => target.name))];
    this.health = names.map((name) => {
      const instances = probes
        .filter((entry) => entry.target.name === name)
        .map((entry) => entry.probe);
      if (instances.some((instance) => instance.alive)) this.heartbeats.set(name, now);
      return {
        name,
        state: serviceState(instances),
        instancesAlive: instances.filter((instance) => instance.alive).length,
        instancesConfigured: instances.length,
        lastHeartbeat: this.heartbeats.get(name) ?? null,
        instances,
      };
    });
  }

  /** The last probe's result per service. */
  current(): ServiceHealth[] {
    return this.health;
  }
}
