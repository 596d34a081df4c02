import { execFileSync } from 'node:child_process';
import { Stack, StackOptions, startStack } from '../../tools/stack';
import { createTestDatabases, runId } from './databases';

/**
 * For suites that need a fresh system per test: `start()` gives a stack on new databases and its own
 * topic, and everything it (and `onCleanup`) set up is torn down after each test, even a failing one.
 * Call from a describe body or the top of a test file.
 */
export function stackPerTest(dbPrefix: string) {
  let stack: Stack | undefined;
  let cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  }, 60_000);

  const onCleanup = (fn: () => Promise<void> | void) => void cleanups.push(fn);

  return {
    onCleanup,
    start: async (
      options: Omit<StackOptions, 'databases' | 'ports'> = {},
    ): Promise<{ stack: Stack; dbs: { catalog: string; audit: string } }> => {
      const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], dbPrefix);
      onCleanup(dbs.drop);
      const topic = options.topic ?? `products-${runId()}`;
      // The machine's Redis keeps streams until deleted.
      onCleanup(() => void execFileSync('redis-cli', ['DEL', topic, `${topic}-deadletter`]));
      stack = await startStack({ ports: 'free', databases: dbs.names, topic, ...options });
      return { stack, dbs: dbs.names };
    },
  };
}
