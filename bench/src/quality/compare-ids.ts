/** Compares ids by UTF-16 code units, as the feature code and the warehouse's ORDER BY do. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
