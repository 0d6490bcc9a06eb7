/** Column alignment of a Markdown table. */
export type Align = 'left' | 'right';

/** A Markdown table; `align` defaults to left for the first column and right for the others. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  const alignOf = (i: number): Align => align?.[i] ?? (i === 0 ? 'left' : 'right');
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(escape).join(' | ')} |`,
    `| ${headers.map((_, i) => (alignOf(i) === 'right' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** A whole number with thousands separators; `–` when missing. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Math.round(value).toLocaleString('en-US');
}

/** A number with `digits` decimals; `–` when missing. */
export function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : value.toFixed(digits);
}

/** A share as a percentage; `–` when missing. */
export function percent(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : `${(value * 100).toFixed(digits)} %`;
}

/** A ratio as `0.14×`; `–` when missing. */
export function times(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : `${value.toFixed(digits)}×`;
}

/** Seconds, to a sensible precision. */
export function secondsText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value >= 10 ? `${value.toFixed(0)} s` : `${value.toFixed(value >= 1 ? 1 : 2)} s`;
}

/** Inline code. */
export function code(text: string): string {
  return `\`${text}\``;
}
