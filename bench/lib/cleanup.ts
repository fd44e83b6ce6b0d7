/**
 * Everything the benchmark starts (daemons, sshd hosts, temp folders) registers
 * how to undo it here. `cleanupAll` runs the actions newest first, once, on a
 * normal end, on a failure and on SIGINT/SIGTERM/SIGHUP.
 */

type Action = { name: string; run: () => Promise<void> | void };

const actions: Action[] = [];
let running: Promise<void> | undefined;

/** Register an undo action; returns a function that runs it now and forgets it. */
export function onCleanup(name: string, run: Action['run']): () => Promise<void> {
  const action: Action = { name, run };
  actions.push(action);
  return async () => {
    const index = actions.indexOf(action);
    if (index < 0) return;
    actions.splice(index, 1);
    await run();
  };
}

export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (actions.length > 0) {
      const action = actions.pop()!;
      try {
        await action.run();
      } catch (error) {
        process.stderr.write(`cleanup of ${action.name} failed: ${(error as Error).message}\n`);
      }
    }
  })();
  return running;
}

/** On Ctrl-C (or a kill), clean up, then exit 130; a second signal while cleaning is ignored. */
export function installSignalHandlers(): void {
  let received = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (received) return;
      received = true;
      process.stderr.write(`\n${signal}: stopping daemons and SSH hosts, removing temporary folders...\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
