/** A map from a numeric domain onto a pixel range, both given as [start, end]. */
export type Scale = (value: number) => number;

/**
 * A linear scale from `domain` onto `range`, like d3's `scaleLinear` without clamping. A domain
 * of zero width maps everything to the middle of the range rather than dividing by zero.
 */
export function linearScale(
  domain: readonly [number, number],
  range: readonly [number, number],
): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  const factor = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * factor;
}

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * An SVG path through the points, starting a new sub-path after each gap (`null`), so days with
 * no value break the line instead of being bridged.
 */
export function linePath(points: readonly { x: number; y: number | null }[]): string {
  const parts: string[] = [];
  let drawing = false;
  for (const { x, y } of points) {
    if (y === null) {
      drawing = false;
      continue;
    }
    parts.push(`${drawing ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`);
    drawing = true;
  }
  return parts.join(' ');
}

/** What the rolling-AP chart shows. */
export interface RollingApChart {
  readonly title: string;
  /** One line under the chart saying what the line is. */
  readonly caption: string;
  /** Simulated days on the x axis, `[0, days]`. */
  readonly days: number;
  /** Epoch ms of day 0, for the date labels. */
  readonly startMs: number;
  /** Rolling AP by day; `null` where undefined (no fraud in the window). */
  readonly points: readonly { readonly day: number; readonly ap: number | null }[];
  /** Promotions per day, index = day. */
  readonly promotionsPerDay: readonly number[];
  /** The test weeks, shaded: `[startDay, endDay)`. */
  readonly testPeriod: { readonly startDay: number; readonly endDay: number };
  /** Horizontal reference lines, e.g. the handbook's test AP. */
  readonly references: readonly { readonly label: string; readonly value: number }[];
  /** Further lines drawn over the same axes (the batch peers, say), with a legend. */
  readonly series?: readonly {
    readonly label: string;
    readonly color: string;
    readonly points: readonly { readonly day: number; readonly ap: number | null }[];
  }[];
  /** Label of the main line in the legend, when there are further series. */
  readonly mainLabel?: string;
  /** Vertical markers, e.g. the day the fraud patterns change. */
  readonly markers?: readonly { readonly day: number; readonly label: string }[];
}

const WIDTH = 960;
const HEIGHT = 460;
const MARGIN = { left: 60, right: 44, top: 48, bottom: 124 };
const STRIP_HEIGHT = 44;
const STRIP_GAP = 34;
const DAY_MS = 86_400_000;

/**
 * Renders the rolling average precision over the simulated days as a standalone SVG: the AP line,
 * the test weeks shaded, reference lines, and below it a strip with the number of promotions per
 * day, so a reader sees how quality moves and when the champion changed.
 */
export function renderRollingApSvg(chart: RollingApChart): string {
  const plotBottom = HEIGHT - MARGIN.bottom;
  const x = linearScale([0, chart.days], [MARGIN.left, WIDTH - MARGIN.right]);
  const y = linearScale([0, 1], [plotBottom, MARGIN.top]);
  const stripTop = plotBottom + STRIP_GAP;
  const stripBottom = stripTop + STRIP_HEIGHT;
  const maxPromotions = Math.max(1, ...chart.promotionsPerDay);
  const bar = linearScale([0, maxPromotions], [stripBottom, stripTop]);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  const testX0 = x(chart.testPeriod.startDay);
  const testX1 = x(chart.testPeriod.endDay);
  out.push(
    `<rect x="${testX0.toFixed(1)}" y="${MARGIN.top}" width="${(testX1 - testX0).toFixed(1)}" ` +
      `height="${plotBottom - MARGIN.top}" fill="#fff3c4"/>`,
    `<text x="${((testX0 + testX1) / 2).toFixed(1)}" y="${MARGIN.top + 14}" ` +
      `text-anchor="middle" fill="#7a6000">test weeks</text>`,
  );
  for (let tick = 0; tick <= 10; tick += 2) {
    const value = tick / 10;
    const ty = y(value).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 8}" y="${ty}" dy="4" text-anchor="end">${value.toFixed(1)}</text>`,
    );
  }
  // Month starts as date ticks, on both the chart and the strip.
  const first = new Date(chart.startMs);
  for (let month = 0; ; month += 1) {
    const tickMs = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + month, 1);
    const day = (tickMs - chart.startMs) / DAY_MS;
    if (day > chart.days) break;
    if (day < 0) continue;
    const tx = x(day).toFixed(1);
    out.push(
      `<line x1="${tx}" x2="${tx}" y1="${MARGIN.top}" y2="${stripBottom}" stroke="#f0f0f0"/>`,
      `<text x="${tx}" y="${stripBottom + 16}" text-anchor="middle">` +
        `${new Date(tickMs).toISOString().slice(0, 10)}</text>`,
    );
  }
  chart.references.forEach((reference, i) => {
    const ry = y(reference.value).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ry}" y2="${ry}" ` +
        `stroke="#c0392b" stroke-dasharray="6 4"/>`,
      `<text x="${WIDTH - MARGIN.right - 4}" y="${ry}" dy="${i % 2 === 0 ? -5 : 13}" ` +
        `text-anchor="end" fill="#c0392b">${escapeXml(reference.label)}</text>`,
    );
  });
  for (const marker of chart.markers ?? []) {
    const mx = x(marker.day).toFixed(1);
    out.push(
      `<line x1="${mx}" x2="${mx}" y1="${MARGIN.top}" y2="${plotBottom}" stroke="#8e44ad" ` +
        `stroke-dasharray="3 3"/>`,
      `<text x="${mx}" y="${MARGIN.top + 28}" dx="4" fill="#8e44ad">${escapeXml(marker.label)}</text>`,
    );
  }
  const legend = [
    ...(chart.series === undefined || chart.series.length === 0
      ? []
      : [{ label: chart.mainLabel ?? 'continuous', color: '#1f5fa8' }]),
    ...(chart.series ?? []),
  ];
  for (const line of chart.series ?? []) {
    out.push(
      `<path d="${linePath(line.points.map((p) => ({ x: x(p.day + 0.5), y: p.ap === null ? null : y(p.ap) })))}" ` +
        `fill="none" stroke="${line.color}" stroke-width="1.5"/>`,
    );
  }
  legend.forEach((entry, i) => {
    const ly = MARGIN.top + 44 + i * 16;
    out.push(
      `<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 34}" y1="${ly}" y2="${ly}" ` +
        `stroke="${entry.color}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 40}" y="${ly}" dy="4">${escapeXml(entry.label)}</text>`,
    );
  });
  out.push(
    `<path d="${linePath(chart.points.map((p) => ({ x: x(p.day + 0.5), y: p.ap === null ? null : y(p.ap) })))}" ` +
      `fill="none" stroke="#1f5fa8" stroke-width="2"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${plotBottom}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${plotBottom}" y2="${plotBottom}" stroke="#333"/>`,
    `<text x="16" y="${((MARGIN.top + plotBottom) / 2).toFixed(1)}" text-anchor="middle" ` +
      `transform="rotate(-90 16 ${((MARGIN.top + plotBottom) / 2).toFixed(1)})">average precision</text>`,
  );
  const barWidth = Math.max(1, x(1) - x(0) - 0.5);
  chart.promotionsPerDay.forEach((count, day) => {
    if (count === 0) return;
    const top = bar(count);
    out.push(
      `<rect x="${x(day).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" ` +
        `height="${(stripBottom - top).toFixed(1)}" fill="#2e8b57"/>`,
    );
  });
  out.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${stripBottom}" y2="${stripBottom}" stroke="#333"/>`,
    `<text x="${MARGIN.left}" y="${stripTop - 8}" fill="#2e8b57">promotions per day ` +
      `(max ${maxPromotions})</text>`,
    `<text x="${MARGIN.left}" y="${HEIGHT - 8}" fill="#555">` +
      `${escapeXml(chart.caption)}</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}
