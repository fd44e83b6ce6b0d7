/**
 * A second writer for the store tests: opens the store the config (argv 2,
 * JSON) describes and increments its `counter` unit `count` (argv 3) times,
 * one transaction each, as another daemon or a CLI would at the same time.
 */
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import { increment } from './store-fixtures.ts';

const [config, count] = process.argv.slice(2);
const store = await openStore(JSON.parse(config!), silentLogger);
try {
  for (let i = 0; i < Number(count); i += 1) await increment(store);
} finally {
  await store.close();
}
