import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describeStoreContract, type StoreCase } from '../../../testkit/store-contract.ts';
import { silentLogger } from '../../log.ts';
import { openStore } from '../open.ts';
import { SQLITE_FILE } from './sqlite.ts';

describeStoreContract('SQLite', () => ({
  async fresh(prepare) {
    const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
    const folders = [stateDir];
    prepare?.(stateDir);
    const config = { stateDir };
    const store = await openStore(config, silentLogger);
    const c: StoreCase = {
      store,
      config,
      reopen: () => openStore(config, silentLogger),
      async exec(sqlText) {
        const db = new BetterSqlite3(join(stateDir, SQLITE_FILE));
        try {
          db.exec(sqlText);
        } finally {
          db.close();
        }
      },
      async openBackup(file) {
        const restored = mkdtempSync(join(tmpdir(), 'plumbline-restored-'));
        folders.push(restored);
        copyFileSync(file, join(restored, SQLITE_FILE));
        return openStore({ stateDir: restored }, silentLogger);
      },
      async dispose() {
        await c.store.close().catch(() => undefined);
        for (const dir of folders) rmSync(dir, { recursive: true, force: true });
      },
    };
    return c;
  },
}));
