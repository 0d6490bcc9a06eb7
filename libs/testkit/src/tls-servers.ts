import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './servers';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster and a RabbitMQ node of a test's own that accept TLS only, with a private
 * CA: never the shared servers on 5432 and 5672, which stay as they are.
 */
export interface TlsServers {
  /** PEM of the CA that signed both servers' certificates. */
  caFile: string;
  /** PEM of an unrelated CA: trusting it instead must fail verification. */
  otherCaFile: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, without TLS settings (add `sslmode` etc.). */
  postgresUrl: string;
  /** `amqps://guest:guest@127.0.0.1:<port>` (the node has no plaintext listener). */
  amqpsUrl: string;
  /** Stops both servers and deletes their data and certificates. */
  stop(): Promise<void>;
}

function postgresBin(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv !== undefined) return fromEnv;
  const root = '/usr/lib/postgresql';
  const newest = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  if (newest === undefined) throw new Error('initdb not found: set PG_BIN_DIR');
  return path.join(root, newest, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs `command` as `user` when this process is root (PostgreSQL and RabbitMQ refuse root). */
function asUser(user: string, command: string, args: readonly string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', user, '--', command, ...args]] : [command, [...args]];
}

function ownBy(user: string, ...files: string[]): void {
  if (!asRoot) return;
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  for (const file of files) chownSync(file, uid, gid);
}

/** A CA, an unrelated CA, and a server certificate for 127.0.0.1 and localhost signed by the first. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const selfSigned = (name: string, subject: string): void =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      subject,
    );
  selfSigned('ca', '/CN=streamtrain test CA');
  selfSigned('other-ca', '/CN=an unrelated CA');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  );
}

/** initdb into `dir/pg`, TLS on, and a pg_hba that refuses every connection without TLS. */
function startPostgres(dir: string, certs: string, port: number): () => void {
  const bin = postgresBin();
  const base = path.join(dir, 'pg');
  mkdirSync(base);
  // PostgreSQL wants its key readable by its user only.
  copyFileSync(path.join(certs, 'server.key'), path.join(base, 'server.key'));
  copyFileSync(path.join(certs, 'server.pem'), path.join(base, 'server.pem'));
  chmodSync(path.join(base, 'server.key'), 0o600);
  ownBy('postgres', base, path.join(base, 'server.key'), path.join(base, 'server.pem'));
  const data = path.join(base, 'data');
  const pg = (tool: string, args: string[]): void => {
    const [command, argv] = asUser('postgres', path.join(bin, tool), args);
    execFileSync(command, argv, { stdio: 'ignore' });
  };
  pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    [
      'local     all all              trust',
      'hostssl   all all 127.0.0.1/32 trust',
      'hostnossl all all 0.0.0.0/0    reject',
      '',
    ].join('\n'),
  );
  const options =
    `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on ` +
    `-c ssl_cert_file=${path.join(base, 'server.pem')} -c ssl_key_file=${path.join(base, 'server.key')}`;
  const ctl = (...args: string[]): void =>
    pg('pg_ctl', ['-D', data, '-o', options, '-l', path.join(base, 'server.log'), '-w', ...args]);
  ctl('start');
  return () => ctl('stop', '-m', 'immediate');
}

const RABBITMQ_BIN = process.env.RABBITMQ_BIN_DIR ?? '/usr/lib/rabbitmq/bin';

/**
 * A RabbitMQ node of its own (its node name, ports, mnesia and log folders, no plugins) with one
 * TLS listener and no plaintext one. It shares the machine's epmd and Erlang cookie.
 */
async function startRabbitmq(
  dir: string,
  certs: string,
  port: number,
): Promise<() => Promise<void>> {
  const base = path.join(dir, 'rabbitmq');
  mkdirSync(base);
  copyFileSync(path.join(certs, 'server.key'), path.join(base, 'server.key'));
  chmodSync(path.join(base, 'server.key'), 0o600);
  writeFileSync(
    path.join(base, 'rabbitmq.conf'),
    [
      'listeners.tcp = none',
      `listeners.ssl.default = 127.0.0.1:${port}`,
      `ssl_options.cacertfile = ${path.join(certs, 'ca.pem')}`,
      `ssl_options.certfile = ${path.join(certs, 'server.pem')}`,
      `ssl_options.keyfile = ${path.join(base, 'server.key')}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(base, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
  writeFileSync(path.join(base, 'enabled_plugins'), '[].\n');
  ownBy('rabbitmq', base, ...readdirSync(base).map((file) => path.join(base, file)));
  const node = `sttls${port}@localhost`;
  const env = {
    ...process.env,
    // The rabbitmq user's home holds the cookie the machine's nodes and tools share.
    ...(asRoot ? { HOME: '/var/lib/rabbitmq' } : {}),
    RABBITMQ_CONF_ENV_FILE: path.join(base, 'rabbitmq-env.conf'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: path.join(base, 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: path.join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(base, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(base, 'pid'),
    RABBITMQ_DIST_PORT: String(port + 20_000 <= 65_535 ? port + 20_000 : port - 20_000),
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const [command, argv] = asUser('rabbitmq', path.join(RABBITMQ_BIN, 'rabbitmq-server'), []);
  const server = spawn(command, argv, { env, stdio: 'ignore' });
  const ctl = async (...args: string[]): Promise<void> => {
    const [tool, toolArgs] = asUser('rabbitmq', path.join(RABBITMQ_BIN, 'rabbitmqctl'), [
      '-n',
      node,
      ...args,
    ]);
    await run(tool, toolArgs, { env, timeout: 120_000 });
  };
  let exited = false;
  server.once('exit', () => {
    exited = true;
  });
  // No rabbitmq-server here (ENOENT): said once the wait below fails, not as an unhandled error.
  server.once('error', () => {
    exited = true;
  });
  await waitFor(
    async () => {
      if (exited)
        throw new Error(
          `${path.join(RABBITMQ_BIN, 'rabbitmq-server')} did not start or exited (set RABBITMQ_BIN_DIR); see ${path.join(base, 'log')}`,
        );
      return ctl('await_startup', '--timeout', '5').then(
        () => true,
        () => false,
      );
    },
    (up) => up,
    { timeoutMs: 120_000, intervalMs: 500, description: `RabbitMQ node ${node}` },
  );
  return async () => {
    if (!exited) await ctl('stop');
  };
}

/**
 * Starts a TLS-only PostgreSQL cluster and a TLS-only RabbitMQ node on free ports, with
 * certificates made by `openssl` for 127.0.0.1 and localhost. Takes a few seconds (RabbitMQ's
 * boot): a test file calls it once in `beforeAll` and `stop()` in `afterAll`.
 */
export async function startTlsServers(): Promise<TlsServers> {
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-tls-'));
  chmodSync(dir, 0o755);
  const certs = path.join(dir, 'certs');
  mkdirSync(certs);
  chmodSync(certs, 0o755);
  makeCertificates(certs);
  for (const file of ['ca.pem', 'other-ca.pem', 'server.pem'])
    chmodSync(path.join(certs, file), 0o644);
  const [pgPort, amqpPort] = [await freePort(), await freePort()];
  const stops: (() => void | Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await Promise.resolve(step()).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    stops.push(startPostgres(dir, certs, pgPort));
    stops.push(await startRabbitmq(dir, certs, amqpPort));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    caFile: path.join(certs, 'ca.pem'),
    otherCaFile: path.join(certs, 'other-ca.pem'),
    postgresUrl: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    amqpsUrl: `amqps://guest:guest@127.0.0.1:${amqpPort}`,
    stop,
  };
}
