const started = performance.now();

/** A progress line on stderr, prefixed with the seconds since the suite started. */
export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

/** A number with thousands separators, rounded. */
export function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
