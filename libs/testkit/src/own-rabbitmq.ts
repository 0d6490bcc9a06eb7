import { execFile, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './servers';

const run = promisify(execFile);

/**
 * A RabbitMQ node of a test's (or the fault suite's) own, so it can be stopped and started
 * without touching the shared node on 5672.
 */
export interface OwnRabbitMq {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `rabbitmqctl stop_app`: every connection is closed, the port stops answering. */
  stopApp(): Promise<void>;
  /** `rabbitmqctl start_app`, returning once the node accepts connections again. */
  startApp(): Promise<void>;
  /** Stops the node and deletes its data. */
  remove(): Promise<void>;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A node started from the machine's `rabbitmq-server` in a temporary folder. */
async function startLocalNode(port: number): Promise<OwnRabbitMq> {
  const distPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-own-rabbitmq-'));
  const node = `${path.basename(dir).replace(/[^a-zA-Z0-9]/g, '')}@localhost`;
  if (node.startsWith('rabbit@')) throw new Error('refusing to manage the shared node');
  writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    `listeners.tcp.local = 127.0.0.1:${port}\nloopback_users = none\n`,
  );
  writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  // An empty env file: the machine's (/etc/rabbitmq/rabbitmq-env.conf) names the shared node.
  writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
  // As root, Debian's rabbitmq-server runs the node as the `rabbitmq` user.
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'rabbitmq']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'rabbitmq']).stdout.toString().trim());
    if (Number.isInteger(uid) && uid > 0) {
      chownSync(dir, uid, gid);
      for (const file of ['rabbitmq.conf', 'enabled_plugins', 'rabbitmq-env.conf']) {
        chownSync(path.join(dir, file), uid, gid);
      }
    }
  }
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'pid'),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  const ctl = async (...args: string[]): Promise<void> => {
    await run('rabbitmqctl', ['-q', '-n', node, ...args], { env, cwd: tmpdir() });
  };
  await run('rabbitmq-server', ['-detached'], { env, cwd: tmpdir() });
  // Until the detached node has registered, the CLI reports it "not running at all".
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await ctl('await_startup', '--timeout', '120');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const remove = async (): Promise<void> => {
    try {
      // With the pid file, `stop` returns once the node's process has exited (else it may still
      // be writing into the folder being deleted).
      await ctl('stop', path.join(dir, 'pid'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    stopApp: () => ctl('stop_app'),
    startApp: async () => {
      await ctl('start_app');
      await ctl('await_startup', '--timeout', '120');
    },
    remove,
  };
}

/** A node in a container of its own (where no `rabbitmq-server` is installed, e.g. CI). */
async function startContainer(): Promise<OwnRabbitMq> {
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const container = await new RabbitMQContainer('rabbitmq:4').start();
  const port = container.getMappedPort(5672);
  const ctl = async (...args: string[]): Promise<void> => {
    const result = await container.exec(['rabbitmqctl', '-q', ...args]);
    if (result.exitCode !== 0) throw new Error(`rabbitmqctl ${args.join(' ')}: ${result.output}`);
  };
  return {
    url: `amqp://guest:guest@${container.getHost()}:${port}`,
    port,
    stopApp: () => ctl('stop_app'),
    startApp: async () => {
      await ctl('start_app');
      await ctl('await_startup', '--timeout', '120');
    },
    remove: async () => {
      await container.stop();
    },
  };
}

/**
 * Starts a RabbitMQ node of the caller's own: from the machine's `rabbitmq-server` (a separate
 * node name, ports and data folder; never the shared node), or else in a container when Docker
 * answers. `port` is where the local node listens (a free one by default).
 */
export async function startOwnRabbitMq(port?: number): Promise<OwnRabbitMq> {
  if (onPath('rabbitmq-server') && onPath('rabbitmqctl')) {
    return startLocalNode(port ?? (await freePort()));
  }
  return startContainer();
}
