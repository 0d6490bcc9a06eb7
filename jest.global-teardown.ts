import type { StartedTestServers } from '@streamtrain/testkit';

/** Stops the containers that the global setup started, if any. */
export default async function globalTeardown(): Promise<void> {
  await (
    globalThis as { streamtrainContainers?: StartedTestServers }
  ).streamtrainContainers?.stop();
}
