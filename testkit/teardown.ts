/**
 * Run every teardown step of a test file in order, even when one fails, then
 * throw what failed. A daemon whose dispose throws must not leave the file's
 * sshd hosts running: the test process would wait on them and never end.
 */
export async function disposeAll(...steps: (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} teardown steps failed`);
}
