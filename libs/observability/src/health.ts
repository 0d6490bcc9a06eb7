/** A named readiness check: resolves when the dependency is usable, rejects or returns false when not. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

/** The answer of `/readyz`: overall and per check. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * Readiness: the service takes traffic only while every check passes. Liveness (`/healthz`) is
 * separate and only says the event loop answers, so a broker outage makes a service unready,
 * not restarted.
 */
export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  /** Adds or replaces a check. */
  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Marks the service as stopping: it reports unready from now on. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Runs every check (each with a timeout) and reports. */
  async readiness(timeoutMs = 2_000): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    if (this.shuttingDown) checks.shutdown = { ok: false, error: 'shutting down' };
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<boolean>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`timed out after ${timeoutMs} ms`)),
              timeoutMs,
            );
          });
          const ok = await Promise.race([Promise.resolve(check()), timeout]);
          checks[name] = ok ? { ok: true } : { ok: false, error: 'not ready' };
        } catch (error) {
          checks[name] = { ok: false, error: (error as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  }
}
