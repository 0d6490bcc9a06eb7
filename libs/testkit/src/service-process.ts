import { spawn } from 'node:child_process';
import { waitFor } from './wait-for';

/** One JSON log line of a service (pino). */
export interface ServiceLogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A service's `main.js` running as a child process, as a supervisor runs it. */
export interface ServiceProcess {
  /** Every JSON line it logged so far. */
  lines: ServiceLogLine[];
  /** The messages of what it logged at warn level or above. */
  warnings(): string[];
  /** `/readyz` on `port`: status and body, or undefined while nothing answers. */
  readyz(): Promise<{ status: number; body: unknown } | undefined>;
  /** Polls `/readyz` until `done` accepts the reply (e.g. it names a startup phase), and returns it. */
  untilReadyz(
    done: (reply: { status: number; body: unknown } | undefined) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<{ status: number; body: unknown } | undefined>;
  /** Sends SIGTERM and resolves with the exit code and how long the exit took. */
  terminate(): Promise<{ code: number | null; ms: number }>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node <main>` with `env` (log level set to `info` unless given) serving ops on `httpPort`. */
export function spawnService(
  main: string,
  env: Record<string, string>,
  httpPort: number,
): ServiceProcess {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env, HTTP_PORT: String(httpPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines: ServiceLogLine[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const complete = (partial + chunk.toString()).split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      if (line.startsWith('{')) lines.push(JSON.parse(line) as ServiceLogLine);
    }
  });
  child.stderr.resume();
  const readyz = async () => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined);
    return response === undefined
      ? undefined
      : { status: response.status, body: await response.json() };
  };
  return {
    lines,
    warnings: () =>
      lines
        .filter((line) => ['warn', 'error', 'fatal'].includes(line.level))
        .map((line) => line.msg),
    readyz,
    untilReadyz: (done, description, timeoutMs = 60_000) =>
      waitFor(readyz, done, { timeoutMs, description }),
    terminate: async () => {
      const asked = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: Date.now() - asked };
    },
    exited,
    kill: (signal) => child.kill(signal),
  };
}
