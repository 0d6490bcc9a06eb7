import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@streamtrain/testkit';

/** The services of the loop, in start order. */
export const SERVICES = ['ingest', 'pipeline', 'trainer', 'scorer'] as const;
/** Every process that can be started: the loop's services, the operators' console and the
 * orchestrator (which runs beside the loop, when a test starts it). */
export const PROCESSES = [...SERVICES, 'console', 'orchestrator'] as const;
/** One of the services, the console or the orchestrator. */
export type ServiceName = (typeof PROCESSES)[number];

/**
 * What says a service has started. The scorer is ready only once a champion exists, which takes
 * the loop running, so its start is judged by the `startup` check of its `/readyz` (every ops
 * server listens before start is done). The console starts at once.
 */
const STARTED_PATH: Record<ServiceName, string> = {
  ingest: '/readyz',
  pipeline: '/readyz',
  trainer: '/readyz',
  scorer: '/readyz',
  console: '/healthz',
  orchestrator: '/readyz',
};
/** Services that count as started once `/readyz`'s `startup` check passes, ready or not. */
const STARTED_BEFORE_READY: ReadonlySet<ServiceName> = new Set(['scorer']);

/** Repository root, from `e2e/src` or `e2e/dist`. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A service running as its own process. */
export interface RunningService {
  name: ServiceName;
  process: ChildProcess;
  port: number;
  logFile: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Environment shared by every service (URLs, schema, exchange, topics). */
  env: Record<string, string>;
  /** Extra environment per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** HTTP ports; each service gets its own. */
  ports: Partial<Record<ServiceName, number>>;
  /** Folder for each service's log file. */
  logDir: string;
  /** Longest wait for `/readyz`. @default 60000 */
  readyTimeoutMs?: number;
}

/** Starts one service as `node services/<name>/dist/main.js`, its JSON logs going to a file. */
export function startService(name: ServiceName, options: StackOptions): RunningService {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const port = options.ports[name];
  if (port === undefined) throw new Error(`no HTTP port given for ${name}`);
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...options.env,
        ...options.serviceEnv?.[name],
        HTTP_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { name, process: child, port, logFile, exited };
}

/**
 * Waits until a service answers `path` (its start probe unless given) with 200 (the scorer's
 * start probe: with its `startup` check passing), or fails if it exits first.
 */
export async function waitUntilReady(
  service: RunningService,
  timeoutMs = 60_000,
  given?: string,
): Promise<void> {
  const path = given ?? STARTED_PATH[service.name];
  // A path given asks for 200; the start probe of some services accepts a passing startup check.
  const startedIsEnough = given === undefined && STARTED_BEFORE_READY.has(service.name);
  let exitCode: number | null | undefined;
  void service.exited.then((code) => {
    exitCode = code;
  });
  await waitFor(
    async () => {
      if (exitCode !== undefined)
        throw new Error(`${service.name} exited with ${exitCode}; see ${service.logFile}`);
      const response = await fetch(`http://127.0.0.1:${service.port}${path}`);
      if (response.status === 200) return true;
      if (!startedIsEnough) return false;
      const body = (await response.json()) as { checks?: { startup?: { ok: boolean } } };
      return body.checks?.startup?.ok === true;
    },
    (started) => started,
    { timeoutMs, intervalMs: 250, description: `${service.name} ready (log: ${service.logFile})` },
  );
}

/** Starts every service (or those named) and waits until all have started. */
export async function startStack(
  options: StackOptions,
  names: readonly ServiceName[] = SERVICES,
): Promise<RunningService[]> {
  const services: RunningService[] = [];
  try {
    // A service that cannot start (no port given) stops those already started.
    for (const name of names) services.push(startService(name, options));
    await Promise.all(services.map((service) => waitUntilReady(service, options.readyTimeoutMs)));
  } catch (error) {
    await stopStack(services);
    throw error;
  }
  return services;
}

/** Sends SIGTERM to a service and waits for it to exit; SIGKILL after `timeoutMs`. */
export async function stopService(
  service: RunningService,
  timeoutMs = 30_000,
): Promise<number | null> {
  if (service.process.exitCode !== null || service.process.signalCode !== null)
    return service.process.exitCode;
  service.process.kill('SIGTERM');
  const timer = setTimeout(() => service.process.kill('SIGKILL'), timeoutMs);
  try {
    return await service.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops the services in reverse order of the flow. Resolves to their exit codes. */
export async function stopStack(services: readonly RunningService[]): Promise<(number | null)[]> {
  const codes: (number | null)[] = [];
  for (const service of [...services].reverse()) codes.push(await stopService(service));
  return codes;
}
