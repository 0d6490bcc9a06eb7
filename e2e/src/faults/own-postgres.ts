import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A PostgreSQL cluster of the fault suite's own, so it can be restarted without touching the shared server. */
export interface OwnPostgres {
  port: number;
  databaseUrl: string;
  /** `pg_ctl restart -m fast`: every connection is terminated, the server comes back. */
  restart(): void;
  /** Stops the cluster and deletes its data. */
  remove(): void;
}

function binDir(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv !== undefined) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error('initdb not found: set PG_BIN_DIR');
  return path.join(root, newest, 'bin');
}

/**
 * Creates and starts a throw-away cluster (initdb into a temporary folder, trust auth, only on
 * 127.0.0.1:`port`). PostgreSQL refuses to run as root, so as root it runs as `postgres`.
 */
export function startOwnPostgres(port: number): OwnPostgres {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-faults-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]): void => {
    const command = path.join(bin, tool);
    if (asRoot)
      execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
    else execFileSync(command, args, { stdio: 'ignore' });
  };
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const ctl = (...args: string[]): void =>
    run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', ...args]);
  ctl('start');
  return {
    port,
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => ctl('restart', '-m', 'fast'),
    remove: () => {
      try {
        ctl('stop', '-m', 'immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
