import { StreamtrainError } from '@streamtrain/contracts';
import type { Logger } from '@streamtrain/observability';
import { tryAcquireSessionLock } from '@streamtrain/warehouse';
import type { Pool, SessionLock } from '@streamtrain/warehouse';

/** Options of {@link LeaderLease}. */
export interface LeaderLeaseOptions {
  pool: Pool;
  /** The lease's name: one active trainer per name (schema and model). */
  name: string;
  logger: Logger;
  /** How often a standby tries to take the lease. @default 1000 */
  pollIntervalMs?: number;
  /** Called once if the lease is lost for good: another trainer took it after its connection failed. */
  onLost: (error: Error) => void;
}

/**
 * One active trainer: a PostgreSQL advisory lock held on a connection of its own. A second
 * trainer waits on standby, trying every `pollIntervalMs`; when the active one dies, even by
 * SIGKILL, the server drops its connection and the lock, and the standby takes over.
 */
export class LeaderLease {
  private lock: SessionLock | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private reacquiring: Promise<void> | undefined;

  constructor(private readonly options: LeaderLeaseOptions) {}

  /** Resolves once this process holds the lease; rejects if released first (shutdown). */
  async acquire(): Promise<void> {
    let announced = false;
    while (!this.stopped) {
      const lock = await tryAcquireSessionLock(this.options.pool, this.options.name);
      if (lock !== null) {
        this.lock = lock;
        lock.onLost((error) => this.lost(lock, error));
        this.options.logger.info({ lease: this.options.name }, 'trainer lease acquired: active');
        return;
      }
      if (!announced) {
        this.options.logger.info(
          { lease: this.options.name },
          'another trainer holds the lease: standing by',
        );
        announced = true;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollIntervalMs ?? 1_000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    throw new StreamtrainError('TRAINER_LEASE_LOST', 'stopped while standing by for the lease');
  }

  /**
   * The lease's connection failed (most often the database restarted or terminated it): the lock
   * went with it. Rather than exit, the trainer takes the lease again as soon as the database
   * answers, unless another trainer took it meanwhile; only then is the lease truly lost
   * (`onLost`), so a database restart is an outage to wait out, not a crash (issue 13).
   */
  private lost(lock: SessionLock, error: Error): void {
    if (this.lock !== lock || this.stopped) return;
    this.lock = undefined;
    this.options.logger.warn(
      { err: error, lease: this.options.name },
      'trainer lease connection lost; taking the lease again once the database answers',
    );
    this.reacquiring = this.reacquire().finally(() => {
      this.reacquiring = undefined;
    });
  }

  private async reacquire(): Promise<void> {
    while (!this.stopped) {
      let lock: SessionLock | null;
      try {
        lock = await tryAcquireSessionLock(this.options.pool, this.options.name);
      } catch {
        // The database is still away: try again after the poll interval.
        await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs ?? 1_000));
        continue;
      }
      if (lock === null) {
        this.options.onLost(
          new StreamtrainError(
            'TRAINER_LEASE_LOST',
            'trainer lease lost: another trainer took it while the database was away',
          ),
        );
        return;
      }
      const held = lock;
      this.lock = held;
      held.onLost((error) => this.lost(held, error));
      this.options.logger.info({ lease: this.options.name }, 'trainer lease taken again: active');
      return;
    }
  }

  /**
   * Checks with the server that the lease is still this process's; call before work that
   * publishes (a training step registers and announces versions).
   * @throws StreamtrainError `TRAINER_LEASE_LOST` when it is not.
   */
  async assertHeld(): Promise<void> {
    await this.reacquiring;
    if (this.lock === undefined || !(await this.lock.isHeld())) {
      throw new StreamtrainError('TRAINER_LEASE_LOST', 'this trainer no longer holds the lease', {
        retriable: true,
      });
    }
  }

  /** Gives the lease up (or stops standing by). */
  async release(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.lock?.release();
    this.lock = undefined;
  }
}
