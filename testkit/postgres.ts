import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { run } from '../engine/exec.ts';
import { freePort } from './ports.ts';

/** Debian's PostgreSQL server binaries (package `postgresql`): version 15, or else the newest installed. */
export const POSTGRES_BIN = serverBinaries();
const SUPERUSER = 'postgres';
/** The role the store connects as: a login with a password, over TCP (scram-sha-256). */
export const STORE_ROLE = 'plumbline';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The store role's password, on one line, for `store.passwordFile`. */
  readonly passwordFile: string;
  readonly password: string;
  /** A new, empty database owned by the store role; its URL carries no password. */
  createDatabase(name?: string): Promise<string>;
  /** Stop and start the server again (connections are cut, data kept). */
  restart(): Promise<void>;
  /** SQL as the superuser over the unix socket (tab-separated rows, no headers). */
  psql(sqlText: string, database?: string): Promise<string>;
  /** `pg_restore` of a custom-format dump (as `plumbline backup` writes) into a new database; returns its URL. */
  restore(dumpFile: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL 15 server for tests: `initdb` and `pg_ctl` run as the
 * `postgres` user (the server refuses to run as root), the data folder in a
 * fresh temporary folder that user owns, listening on 127.0.0.1 on a free port
 * and on a unix socket in that folder. Durability is off (`fsync=off`): the
 * server is thrown away, and the tests never crash the machine under it.
 * Several test files (and several daemons) may share one server, each with
 * databases of its own. `stop()` ends it and removes the folder; a test
 * process that dies first stops it from its exit hook.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-pg-'));
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const passwordFile = join(dir, 'store-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const owner = runAsPostgres();
  chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  const host = '127.0.0.1';
  const asPostgres = (command: string, args: string[], timeoutMs = 120_000) =>
    run(owner.wrapper[0]!, [...owner.wrapper.slice(1), join(POSTGRES_BIN, command), ...args], { timeoutMs, cwd: dir });

  await asPostgres('initdb', ['-D', data, '-U', SUPERUSER, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const options = [`-c listen_addresses=${host}`, `-p ${port}`, `-k ${dir}`, '-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off'].join(' ');
  await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(owner.wrapper[0]!, [...owner.wrapper.slice(1), join(POSTGRES_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);

  const psql = async (sqlText: string, database = 'postgres') =>
    (await asPostgres('psql', ['-h', dir, '-p', String(port), '-U', SUPERUSER, '-d', database, '-v', 'ON_ERROR_STOP=1', '-X', '-q', '-A', '-t', '-F', '\t', '-c', sqlText])).stdout;
  await psql(`create role ${STORE_ROLE} login password '${password}'`);

  let databases = 0;
  const createDatabase = async (name = `store_${process.pid}_${++databases}`) => {
    await psql(`create database "${name}" owner ${STORE_ROLE}`);
    return `postgres://${STORE_ROLE}@${host}:${port}/${name}`;
  };
  return {
    host,
    port,
    password,
    passwordFile,
    psql,
    createDatabase,
    async restore(dumpFile) {
      const url = await createDatabase();
      const database = new URL(url).pathname.slice(1);
      await run('pg_restore', ['--no-owner', '--exit-on-error', '-h', host, '-p', String(port), '-U', STORE_ROLE, '-d', database, dumpFile], {
        env: { PGPASSWORD: password },
        timeoutMs: 120_000,
      });
      return url;
    },
    /** Stop the server (fast: sessions are cut) and start it again on the same port, as an operator's restart does. */
    async restart() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
    },
    async stop() {
      if (stopped) return;
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      process.off('exit', stopSync);
      stopSync();
    },
  };
}

/** `runuser -u postgres --` when running as root (as the tests do); as that user already, nothing. */
function runAsPostgres(): { uid: number; gid: number; wrapper: string[] } {
  const id = (flag: string) => {
    const out = spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`no ${SUPERUSER} user on this machine: install the postgresql package`);
    return Number(out.stdout.trim());
  };
  const uid = id('-u');
  const gid = id('-g');
  if (userInfo().uid === uid) return { uid, gid, wrapper: ['env'] };
  return { uid, gid, wrapper: ['runuser', '-u', SUPERUSER, '--'] };
}

function serverBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_ctl'))) : [];
  const chosen = versions.includes('15') ? '15' : versions.sort((a, b) => Number(b) - Number(a))[0];
  return join(root, chosen ?? '15', 'bin');
}
