import { countAtOrBeforeEvent, countAtOrBeforeTime, lowerBound } from './event-order';
import type { EventTimeline } from './event-order';
import type { FeatureInput } from './feature-input';
import { DAY_MS } from './feature-options';
import type { FeatureOptions } from './feature-options';

/**
 * An {@link EventTimeline} with its fraud marks: which entries have a fraud label, and from when
 * each is known. `computeFeatures` builds these from raw rows for each call; `FeatureState` keeps
 * them up to date as transactions and labels arrive. Both hand them to {@link featuresAt}, the one
 * place where the features are computed.
 */
export interface FeatureTimeline extends EventTimeline {
  /** Indices, ascending, of the entries with a fraud label (reported at any time). */
  readonly fraudIndex: readonly number[];
  /** When each of those frauds became known, index-aligned with `fraudIndex`. */
  readonly fraudKnownAtMs: readonly number[];
}

/** Label-profile values past this ratio say nothing more, and must stay finite in float32. */
const MAX_AMOUNT_RATIO = 100;
const HOUR_MS = 3_600_000;
/** Number of label-profile features (see `FeatureOptions.labelProfileDays`): 3 of the card, 4 of the terminal. */
const PROFILE_WIDTH = 7;

/** Where each feature goes in the vector, and the windows in the order the sums run. */
export interface FeatureLayout {
  readonly options: FeatureOptions;
  /** Customer windows, shortest first, each with its slot in `customerWindowsDays`. */
  readonly customerOrder: readonly { readonly days: number; readonly slot: number }[];
  readonly customerBase: number;
  readonly terminalBase: number;
  readonly profileBase: number;
  readonly width: number;
}

/** The layout of the vectors of resolved `options` (see `featureNames`). */
export function featureLayout(options: FeatureOptions): FeatureLayout {
  // Customer sums run newest first across the windows, shortest window first, in one pass.
  const customerOrder = options.customerWindowsDays
    .map((days, slot) => ({ days, slot }))
    .sort((a, b) => a.days - b.days);
  const customerBase = 3;
  const terminalBase = customerBase + 2 * options.customerWindowsDays.length;
  const profileBase = terminalBase + 2 * options.terminalWindowsDays.length;
  const width = profileBase + (options.labelProfileDays > 0 ? PROFILE_WIDTH : 0);
  return { options, customerOrder, customerBase, terminalBase, profileBase, width };
}

/** Entries in `[start, end)` of the timeline whose fraud is known at `t`. */
function knownFraudsBetween(
  timeline: FeatureTimeline,
  start: number,
  end: number,
  t: number,
): number {
  const { fraudIndex, fraudKnownAtMs } = timeline;
  let count = 0;
  for (let k = lowerBound(fraudIndex, start); k < fraudIndex.length; k += 1) {
    if ((fraudIndex[k] as number) >= end) break;
    if ((fraudKnownAtMs[k] as number) <= t) count += 1;
  }
  return count;
}

/**
 * The features of `tx` at its own event time (see `computeFeatures` for what each one is), from
 * its customer's and its terminal's timelines, both of which hold `tx` itself. Sums run newest
 * first from the target back, so the values do not depend on where the timelines start, bit for
 * bit, as long as they reach back over the longest look-back.
 *
 * The vector is three parts that meet only here: the calendar (the transaction alone), the card
 * part (the customer's timeline alone) and the terminal part (the terminal's alone), so instances
 * that own disjoint shares of cards and terminals can each compute their part (see
 * {@link featureParts} and {@link assembleFeatures}).
 */
export function featuresAt(
  tx: FeatureInput,
  customer: FeatureTimeline,
  terminal: FeatureTimeline,
  layout: FeatureLayout,
): number[] {
  const values = new Array<number>(layout.width);
  writeCalendar(values, tx, layout);
  writeCardPart(values, tx, customer, layout);
  writeTerminalPart(values, tx, terminal, layout);
  return values;
}

/** The card part and the terminal part of a vector, in their slots' order. */
export interface FeatureParts {
  /** From the customer's timeline (see {@link cardSlots}); absent when not computed. */
  readonly card?: number[];
  /** From the terminal's timeline (see {@link terminalSlots}); absent when not computed. */
  readonly terminal?: number[];
}

/** The vector slots the card part fills: the customer windows and the card's label profile. */
export function cardSlots(layout: FeatureLayout): number[] {
  const slots: number[] = [];
  for (let i = layout.customerBase; i < layout.terminalBase; i += 1) slots.push(i);
  if (layout.options.labelProfileDays > 0)
    slots.push(...[0, 1, 2].map((k) => layout.profileBase + k));
  return slots;
}

/** The vector slots the terminal part fills: the terminal windows and its label profile. */
export function terminalSlots(layout: FeatureLayout): number[] {
  const slots: number[] = [];
  for (let i = layout.terminalBase; i < layout.profileBase; i += 1) slots.push(i);
  if (layout.options.labelProfileDays > 0) {
    slots.push(...[3, 4, 5, 6].map((k) => layout.profileBase + k));
  }
  return slots;
}

/** The parts of `tx`'s vector from whichever of its timelines are given. */
export function featureParts(
  tx: FeatureInput,
  customer: FeatureTimeline | undefined,
  terminal: FeatureTimeline | undefined,
  layout: FeatureLayout,
): FeatureParts {
  const values = new Array<number>(layout.width);
  const parts: { card?: number[]; terminal?: number[] } = {};
  if (customer !== undefined) {
    writeCardPart(values, tx, customer, layout);
    parts.card = cardSlots(layout).map((slot) => values[slot] as number);
  }
  if (terminal !== undefined) {
    writeTerminalPart(values, tx, terminal, layout);
    parts.terminal = terminalSlots(layout).map((slot) => values[slot] as number);
  }
  return parts;
}

/**
 * The vector of `tx` from its calendar and its two parts, each computed wherever its key is
 * owned: the same values, bit for bit, as {@link featuresAt}.
 */
export function assembleFeatures(
  tx: FeatureInput,
  card: readonly number[],
  terminal: readonly number[],
  layout: FeatureLayout,
): number[] {
  const values = new Array<number>(layout.width);
  writeCalendar(values, tx, layout);
  cardSlots(layout).forEach((slot, i) => {
    values[slot] = card[i] as number;
  });
  terminalSlots(layout).forEach((slot, i) => {
    values[slot] = terminal[i] as number;
  });
  return values;
}

function writeCalendar(values: number[], tx: FeatureInput, layout: FeatureLayout): void {
  const date = new Date(tx.eventTimeMs);
  const weekday = date.getUTCDay();
  values[0] = tx.amount;
  values[1] = weekday === 0 || weekday === 6 ? 1 : 0;
  values[2] = date.getUTCHours() < layout.options.nightEndHour ? 1 : 0;
}

function writeCardPart(
  values: number[],
  tx: FeatureInput,
  customer: FeatureTimeline,
  layout: FeatureLayout,
): void {
  const { options, customerOrder, customerBase, profileBase } = layout;
  const t = tx.eventTimeMs;
  const end = countAtOrBeforeEvent(customer, t, tx.transactionId);
  let start = end;
  let sum = 0;
  for (const { days, slot: window } of customerOrder) {
    const windowStart = countAtOrBeforeTime(customer, t - days * DAY_MS);
    for (; start > windowStart; start -= 1) sum += customer.amounts[start - 1] as number;
    const count = end - start;
    values[customerBase + 2 * window] = count;
    // Never 0: the target is in its own customer's timeline.
    values[customerBase + 2 * window + 1] = sum / count;
  }
  if (options.labelProfileDays > 0) {
    const profile = cardProfile(tx, customer, end, options.labelProfileDays * DAY_MS);
    for (let i = 0; i < 3; i += 1) values[profileBase + i] = profile[i] as number;
  }
}

function writeTerminalPart(
  values: number[],
  tx: FeatureInput,
  terminal: FeatureTimeline,
  layout: FeatureLayout,
): void {
  const { options, terminalBase, profileBase } = layout;
  const t = tx.eventTimeMs;
  const windowEndMs = t - options.terminalDelayDays * DAY_MS;
  // With no delay the window ends at the target itself, so same-millisecond ties apply.
  const windowEnd =
    windowEndMs === t
      ? countAtOrBeforeEvent(terminal, t, tx.transactionId)
      : countAtOrBeforeTime(terminal, windowEndMs);
  options.terminalWindowsDays.forEach((days, window) => {
    const windowStart = countAtOrBeforeTime(terminal, windowEndMs - days * DAY_MS);
    const count = windowEnd - windowStart;
    values[terminalBase + 2 * window] = count;
    values[terminalBase + 2 * window + 1] =
      count === 0 ? 0 : knownFraudsBetween(terminal, windowStart, windowEnd, t) / count;
  });
  if (options.labelProfileDays > 0) {
    const profile = terminalProfile(tx, terminal, options.labelProfileDays * DAY_MS);
    for (let i = 0; i < 4; i += 1) values[profileBase + 3 + i] = profile[i] as number;
  }
}

/**
 * The card's label-profile features of `tx` at its time `t`, over `(t - windowMs, t)`, from the
 * target's earlier transactions only (the target itself never counts) and labels reported at or
 * before `t`: the amount ratio, the log hours since the previous transaction, the known frauds.
 * `customerEnd` is the number of customer-timeline entries at or before the target, the target
 * included. Sums run newest first, so the values do not depend on where the history starts.
 */
function cardProfile(
  tx: FeatureInput,
  customer: FeatureTimeline,
  customerEnd: number,
  windowMs: number,
): number[] {
  const t = tx.eventTimeMs;
  const noneHours = Math.log1p(windowMs / HOUR_MS);
  // Entries before the target (at customerEnd - 1) back to the window start.
  const customerStart = countAtOrBeforeTime(customer, t - windowMs);
  let earlierSum = 0;
  let earlierCount = 0;
  for (let i = customerEnd - 2; i >= customerStart; i -= 1) {
    earlierSum += customer.amounts[i] as number;
    earlierCount += 1;
  }
  const cardFrauds = knownFraudsBetween(customer, customerStart, customerEnd - 1, t);
  const earlierMean = earlierCount === 0 ? 0 : earlierSum / earlierCount;
  const amountRatio =
    earlierCount === 0 || !(earlierMean > 0)
      ? 1
      : Math.max(-MAX_AMOUNT_RATIO, Math.min(MAX_AMOUNT_RATIO, tx.amount / earlierMean));
  const hoursSincePrevious =
    earlierCount === 0
      ? noneHours
      : Math.log1p((t - (customer.times[customerEnd - 2] as number)) / HOUR_MS);
  return [amountRatio, hoursSincePrevious, cardFrauds];
}

/**
 * The terminal's label-profile features of `tx` at its time `t`: over its labelled frauds before
 * the target in `(t - windowMs, t)` known by `t`, newest first: how many, on how many cards, their
 * mean amount and the log hours since the latest.
 */
function terminalProfile(tx: FeatureInput, terminal: FeatureTimeline, windowMs: number): number[] {
  const t = tx.eventTimeMs;
  const noneHours = Math.log1p(windowMs / HOUR_MS);
  const targetIndex = countAtOrBeforeEvent(terminal, t, tx.transactionId) - 1;
  const terminalStart = countAtOrBeforeTime(terminal, t - windowMs);
  const cards = new Set<string>();
  let terminalFrauds = 0;
  let fraudAmountSum = 0;
  let latestFraudMs = Number.NEGATIVE_INFINITY;
  const { fraudIndex, fraudKnownAtMs } = terminal;
  for (let k = lowerBound(fraudIndex, targetIndex) - 1; k >= 0; k -= 1) {
    const index = fraudIndex[k] as number;
    if (index < terminalStart) break;
    if ((fraudKnownAtMs[k] as number) > t) continue;
    terminalFrauds += 1;
    fraudAmountSum += terminal.amounts[index] as number;
    cards.add(terminal.customers[index] as string);
    latestFraudMs = Math.max(latestFraudMs, terminal.times[index] as number);
  }
  return [
    terminalFrauds,
    cards.size,
    terminalFrauds === 0 ? 0 : fraudAmountSum / terminalFrauds,
    terminalFrauds === 0 ? noneHours : Math.log1p((t - latestFraudMs) / HOUR_MS),
  ];
}
