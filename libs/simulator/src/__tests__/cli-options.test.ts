import { InvalidArgumentError } from 'commander';
import {
  parseChannelWeights,
  parseCount,
  parseLabelDelay,
  parsePositive,
  simulatorOptionsFrom,
} from '../cli/options';
import { resolveSimulatorConfig } from '../config';

describe('command-line option parsers', () => {
  it('then counts and rates accept numbers and refuse the rest', () => {
    expect(parseCount('5000')).toBe(5000);
    expect(() => parseCount('-1')).toThrow(InvalidArgumentError);
    expect(() => parseCount('1e3')).toThrow(InvalidArgumentError);
    expect(parsePositive('0.5')).toBe(0.5);
    expect(() => parsePositive('0')).toThrow(InvalidArgumentError);
    expect(() => parsePositive('')).toThrow(InvalidArgumentError);
  });

  it('then channel weights parse as <channel>=<weight> pairs', () => {
    expect(parseChannelWeights('mobile=0.4, web=0.35,pos=0.25')).toEqual({
      mobile: 0.4,
      web: 0.35,
      pos: 0.25,
    });
    expect(() => parseChannelWeights('atm=1')).toThrow(/channel one of mobile, web, pos, file/);
    expect(() => parseChannelWeights('web=')).toThrow(InvalidArgumentError);
  });

  it('then label delays parse as uniform, fixed or exponential', () => {
    expect(parseLabelDelay('uniform:1:7')).toEqual({ kind: 'uniform', minDays: 1, maxDays: 7 });
    expect(parseLabelDelay('fixed:3')).toEqual({ kind: 'fixed', days: 3 });
    expect(parseLabelDelay('exponential:1:2.5')).toEqual({
      kind: 'exponential',
      minDays: 1,
      meanDays: 2.5,
    });
    expect(() => parseLabelDelay('uniform:1')).toThrow(InvalidArgumentError);
    expect(() => parseLabelDelay('gamma:1:2')).toThrow(InvalidArgumentError);
  });

  it('when an option is not given, then the simulator default applies', () => {
    const config = resolveSimulatorConfig(simulatorOptionsFrom({ customers: 10 }));
    expect(config.customers).toBe(10);
    expect(config.terminals).toBe(10_000);
    expect(config.labelDelay).toEqual({ kind: 'uniform', minDays: 1, maxDays: 7 });
  });
});
