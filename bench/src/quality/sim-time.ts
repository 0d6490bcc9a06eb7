/** Milliseconds in a day; simulated days are UTC days of event time. */
export const DAY_MS = 86_400_000;

/** The simulated day (from 0) of event time `timeMs` in a simulation starting at `startMs`. */
export function simDayOf(timeMs: number, startMs: number): number {
  return Math.floor((timeMs - startMs) / DAY_MS);
}

/** `YYYY-MM-DD` of simulated day `day`. */
export function dateOfSimDay(day: number, startMs: number): string {
  return new Date(startMs + day * DAY_MS).toISOString().slice(0, 10);
}
