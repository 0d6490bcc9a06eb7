import { CHANNELS } from '@streamtrain/contracts';
import type { Channel } from '@streamtrain/contracts';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { LabelDelay, SimulatorOptions } from '../config';

/** Parses a non-negative integer option value. */
export function parseCount(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError('expected a non-negative integer');
  }
  return parsed;
}

/** Parses a positive number option value (e.g. a rate of 0.5 events per second). */
export function parsePositive(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a positive number');
  }
  return parsed;
}

/** Parses `mobile=0.4,web=0.35,pos=0.25`; channels left out get weight 0. */
export function parseChannelWeights(value: string): Partial<Record<Channel, number>> {
  const weights: Partial<Record<Channel, number>> = {};
  for (const part of value.split(',')) {
    const [name = '', weight = ''] = part.split('=').map((piece) => piece.trim());
    const channel = CHANNELS.find((known) => known === name);
    const parsed = Number(weight);
    if (channel === undefined || weight === '' || !Number.isFinite(parsed) || parsed < 0) {
      throw new InvalidArgumentError(
        `expected <channel>=<weight>[,...] with channel one of ${CHANNELS.join(', ')}, got '${part}'`,
      );
    }
    weights[channel] = parsed;
  }
  return weights;
}

/** Parses `uniform:<min>:<max>`, `fixed:<days>` or `exponential:<min>:<mean>` (days). */
export function parseLabelDelay(value: string): LabelDelay {
  const [kind, ...rest] = value.split(':');
  const numbers = rest.map(Number);
  const ok = numbers.every((n) => Number.isFinite(n) && n >= 0);
  const [a = Number.NaN, b = Number.NaN] = numbers;
  if (ok && kind === 'uniform' && numbers.length === 2) {
    return { kind, minDays: a, maxDays: b };
  }
  if (ok && kind === 'fixed' && numbers.length === 1) return { kind, days: a };
  if (ok && kind === 'exponential' && numbers.length === 2) {
    return { kind, minDays: a, meanDays: b };
  }
  throw new InvalidArgumentError(
    "expected 'uniform:<minDays>:<maxDays>', 'fixed:<days>' or 'exponential:<minDays>:<meanDays>'",
  );
}

/** The simulation options every command shares, as commander parses them. */
export interface SimulationCliOptions {
  seed?: number;
  customers?: number;
  terminals?: number;
  days?: number;
  startDate?: string;
  channelWeights?: Partial<Record<Channel, number>>;
  labelDelay?: LabelDelay;
}

/** Adds the sizing, seed and realism options to `command`; defaults are the simulator's own. */
export function addSimulationOptions(command: Command): Command {
  return command
    .option('--seed <n>', 'random seed, 0 to 4294967295 (default: 0)', parseCount)
    .option('--customers <n>', 'number of customers (default: 5000)', parseCount)
    .option('--terminals <n>', 'number of terminals (default: 10000)', parseCount)
    .option('--days <n>', 'number of simulated days (default: 183)', parseCount)
    .option('--start-date <date>', 'first simulated day, YYYY-MM-DD UTC (default: 2018-04-01)')
    .option(
      '--channel-weights <weights>',
      'channel mix, e.g. mobile=0.4,web=0.35,pos=0.25 (the default)',
      parseChannelWeights,
    )
    .option(
      '--label-delay <spec>',
      'fraud label delay in days: uniform:1:7 (the default), fixed:<d> or exponential:<min>:<mean>',
      parseLabelDelay,
    );
}

/**
 * The simulator options the command line gave. Options not given stay undefined, and the simulator
 * fills in its defaults and checks the whole.
 */
export function simulatorOptionsFrom(options: SimulationCliOptions): SimulatorOptions {
  return {
    seed: options.seed,
    customers: options.customers,
    terminals: options.terminals,
    days: options.days,
    startDate: options.startDate,
    channelWeights: options.channelWeights,
    labelDelay: options.labelDelay,
  };
}
