import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describeStoreContract, openCase } from '../testkit/store-contract.ts';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import { SQLITE_FILE } from '../engine/store/sql/sqlite.ts';

describeStoreContract('SQLite', () => ({
  async fresh(prepare) {
    const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
    const folders = [stateDir];
    prepare?.(stateDir);
    return openCase(
      { stateDir },
      {
        async exec(sqlText) {
          const db = new BetterSqlite3(join(stateDir, SQLITE_FILE));
          try {
            db.exec(sqlText);
          } finally {
            db.close();
          }
        },
        async openBackup(file) {
          // Restored as the documentation says: the copy becomes plumbline.db of a state directory, beside the sealing key kept apart.
          const restored = mkdtempSync(join(tmpdir(), 'plumbline-restored-'));
          folders.push(restored);
          copyFileSync(file, join(restored, SQLITE_FILE));
          copyFileSync(join(stateDir, 'sealing.key'), join(restored, 'sealing.key'));
          return openStore({ stateDir: restored }, silentLogger);
        },
      },
      folders,
    );
  },
}));
