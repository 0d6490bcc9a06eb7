import { InvalidArgumentError } from 'commander';
import { scenarioParametersOn, resolveSimulatorConfig } from '@streamtrain/simulator';
import { parseGateKind, parseWarmStart, patternChangeFrom } from '../quality/options';
import { renderRollingApSvg } from '../quality/svg-plot';

describe('learner options of the quality replay', () => {
  it('accepts the trainer gates and warm-start aliases and refuses anything else', () => {
    expect(parseGateKind('bootstrap')).toBe('bootstrap');
    expect(parseGateKind('tolerance')).toBe('tolerance');
    expect(() => parseGateKind('strict')).toThrow(InvalidArgumentError);
    expect(parseWarmStart('champion')).toBe('champion');
    expect(() => parseWarmStart('parent')).toThrow(InvalidArgumentError);
  });

  it('when a pattern change day is given, then the simulator runs the old scenarios before it and the new ones from it', () => {
    const config = resolveSimulatorConfig({
      customers: 5000,
      terminals: 10_000,
      patternChange: patternChangeFrom(60, 5000, 10_000),
    });
    expect(scenarioParametersOn(config, 59)).toMatchObject({
      compromisedAmountMultiplier: 5,
      terminalCompromiseDays: 28,
    });
    expect(scenarioParametersOn(config, 60)).toMatchObject({
      compromisedAmountMultiplier: 1,
      compromisedCustomerFraudShare: 0.5,
      compromisedCustomersPerDay: 6,
      compromisedTerminalsPerDay: 6,
      terminalCompromiseDays: 7,
    });
  });
});

describe('staleness plot', () => {
  it('draws the peers as further lines with a legend and marks the pattern change', () => {
    const svg = renderRollingApSvg({
      title: 'staleness',
      caption: 'caption',
      days: 10,
      startMs: Date.UTC(2018, 3, 1),
      points: [{ day: 6, ap: 0.5 }],
      mainLabel: 'continuous (champion)',
      series: [
        { label: 'weekly retrain peer', color: '#e67e22', points: [{ day: 6, ap: 0.4 }] },
        { label: 'frozen peer', color: '#7f8c8d', points: [{ day: 6, ap: 0.3 }] },
      ],
      markers: [{ day: 5, label: 'pattern change' }],
      promotionsPerDay: [],
      testPeriod: { startDay: 7, endDay: 9 },
      references: [],
    });
    expect(svg).toContain('continuous (champion)');
    expect(svg).toContain('weekly retrain peer');
    expect(svg).toContain('stroke="#7f8c8d"');
    expect(svg).toContain('pattern change');
    expect(svg.match(/<path /g)).toHaveLength(3);
  });
});
