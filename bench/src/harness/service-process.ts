import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@streamtrain/testkit';
import { MemorySampler } from './proc-memory';
import { parsePrometheusText } from './prometheus-text';
import type { PromSample } from './prometheus-text';

/** The services of the training loop, each run as `node services/<name>/dist/main.js` exactly as in production. */
export type ServiceName = 'ingest' | 'pipeline' | 'trainer';
/** Every service the benchmarks can run as a process. */
export type ProcessName = ServiceName | 'scorer';

/** Repository root, from `bench/dist/harness`. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Options of {@link startServiceProcess}. */
export interface ServiceProcessOptions {
  readonly name: ProcessName;
  /** The service's environment (nothing else of the bench's environment is passed on but PATH). */
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  /** Folder of the log file (the service's JSON lines, stdout and stderr). */
  readonly logDir: string;
  /** Extra Node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Label of the log file, when one service runs several times. */
  readonly label?: string;
}

/** A service running as its own process. */
export interface ServiceProcess {
  readonly name: ProcessName;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  /** `Date.now()` just before the process was spawned. */
  readonly spawnedAtMs: number;
  /** RSS sampling from spawn on. */
  readonly memory: MemorySampler;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The parsed `/metrics`; rejects while the HTTP server is not up yet. */
  metrics(): Promise<PromSample[]>;
  /** Waits for `/readyz` to answer 200; rejects if the process exits first. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Spawns a service; its log goes to `<logDir>/<label or name>.log`. */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${options.label ?? options.name}.log`);
  const log = openSync(logFile, 'a');
  const spawnedAtMs = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        path.join(REPO_ROOT, 'services', options.name, 'dist', 'main.js'),
      ],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...options.env,
          HTTP_PORT: String(options.port),
        },
        // The log file itself, not a pipe: the bench's event loop never relays the service's lines.
        stdio: ['ignore', log, log],
      },
    );
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${options.name}`);
  const pid = child.pid;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const base = `http://127.0.0.1:${options.port}`;
  return {
    name: options.name,
    pid,
    port: options.port,
    logFile,
    spawnedAtMs,
    memory: new MemorySampler(pid),
    exited,
    async metrics() {
      const response = await fetch(`${base}/metrics`);
      if (!response.ok) throw new Error(`${options.name} /metrics answered ${response.status}`);
      return parsePrometheusText(await response.text());
    },
    async waitReady(timeoutMs = 90_000) {
      await waitFor(
        async () => {
          if (hasExited(child)) {
            throw new Error(`${options.name} exited with ${child.exitCode}; see ${logFile}`);
          }
          return (await fetch(`${base}/readyz`)).status;
        },
        (status) => status === 200 || hasExited(child),
        { timeoutMs, intervalMs: 100, description: `${options.name} ready (log: ${logFile})` },
      );
      if (hasExited(child)) {
        throw new Error(`${options.name} exited with ${child.exitCode}; see ${logFile}`);
      }
    },
    async stop(timeoutMs = 30_000) {
      if (hasExited(child)) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
