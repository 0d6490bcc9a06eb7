/**
 * Calls `onFirst` on the first Ctrl-C or SIGTERM so the command can finish cleanly; a second one
 * exits at once, for when the clean finish hangs (e.g. an unreachable broker). Returns a function
 * that removes the handlers.
 */
export function onInterrupt(onFirst: () => void): () => void {
  const force = (): void => {
    console.error('interrupted again: exiting without flushing');
    process.exit(130);
  };
  const first = (): void => {
    process.off('SIGINT', first);
    process.off('SIGTERM', first);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    onFirst();
  };
  process.once('SIGINT', first);
  process.once('SIGTERM', first);
  return () => {
    for (const handler of [first, force]) {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    }
  };
}
