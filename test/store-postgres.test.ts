import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { silentLogger } from '../engine/log.ts';
import { openStore, type StoreConfig } from '../engine/store/open.ts';
import { type PostgresServer, startPostgres } from '../testkit/postgres.ts';
import { describeStoreContract, type StoreCase } from '../testkit/store-contract.ts';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describeStoreContract('PostgreSQL', () => ({
  async fresh(prepare) {
    const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
    prepare?.(stateDir);
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const config: StoreConfig = { stateDir, store: { url, passwordFile: server.passwordFile } };
    const store = await openStore(config, silentLogger);
    const c: StoreCase = {
      store,
      config,
      reopen: () => openStore(config, silentLogger),
      async exec(sqlText) {
        await server.psql(sqlText, database);
      },
      async openBackup(file) {
        const restored = await server.restore(file);
        return openStore({ stateDir, store: { url: restored, passwordFile: server.passwordFile } }, silentLogger);
      },
      async dispose() {
        await c.store.close().catch(() => undefined);
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
    return c;
  },
}));
