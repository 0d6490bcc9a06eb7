import { parseOnly, parseSize } from '../cli-options';
import { Cleanup } from '../harness/cleanup';
import { summarizeCpuProfile } from '../harness/cpu-profile';
import { cpuUsage } from '../harness/cpu-usage';
import {
  histogramOf,
  histogramQuantile,
  parsePrometheusText,
  sumOf,
} from '../harness/prometheus-text';
import { distribution, quantile, ratio } from '../harness/stats';
import { table } from '../results/markdown';

describe('stats', () => {
  it('interpolates quantiles between the nearest ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10], 0.99)).toBe(10);
    expect(quantile([], 0.5)).toBeNull();
    expect(distribution([3, 1, 2])).toMatchObject({ count: 3, p50: 2, max: 3 });
  });

  it('gives no ratio against a missing or zero reference', () => {
    expect(ratio(5, 10)).toBe(0.5);
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(null, 10)).toBeNull();
  });
});

describe('prometheus text', () => {
  const text = [
    '# HELP streamtrain_ingest_messages_total Messages',
    '# TYPE streamtrain_ingest_messages_total counter',
    'streamtrain_ingest_messages_total{topic="a",outcome="landed"} 10',
    'streamtrain_ingest_messages_total{topic="b",outcome="landed"} 5',
    'streamtrain_ingest_messages_total{topic="b",outcome="duplicate"} 2',
    'streamtrain_ingest_batch_duration_seconds_bucket{le="0.1"} 2',
    'streamtrain_ingest_batch_duration_seconds_bucket{le="0.5"} 4',
    'streamtrain_ingest_batch_duration_seconds_bucket{le="+Inf"} 4',
    'streamtrain_ingest_batch_duration_seconds_sum 0.8',
    'streamtrain_ingest_batch_duration_seconds_count 4',
  ].join('\n');
  const samples = parsePrometheusText(text);

  it('sums a counter over the series whose labels match', () => {
    expect(sumOf(samples, 'streamtrain_ingest_messages_total', { outcome: 'landed' })).toBe(15);
    expect(sumOf(samples, 'streamtrain_ingest_messages_total')).toBe(17);
  });

  it('reads a histogram and interpolates its quantiles within a bucket', () => {
    const histogram = histogramOf(samples, 'streamtrain_ingest_batch_duration_seconds');
    expect(histogram.count).toBe(4);
    expect(histogram.sum).toBeCloseTo(0.8);
    expect(histogramQuantile(histogram, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(histogram, 0.75)).toBeCloseTo(0.3);
  });
});

describe('cpu profile summary', () => {
  // (root) → handler (ingest) → zod ; handler → JSON.parse (native) ; (idle) ; (garbage collector)
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 5, 6, 7] },
      {
        id: 2,
        callFrame: { functionName: 'handle', url: 'file:///app/services/ingest/dist/x.js' },
        children: [3, 4],
      },
      { id: 3, callFrame: { functionName: 'parse', url: 'file:///app/node_modules/zod/a.cjs' } },
      { id: 4, callFrame: { functionName: 'JSON.parse', url: '' } },
      { id: 5, callFrame: { functionName: '(idle)', url: '' } },
      { id: 6, callFrame: { functionName: '(garbage collector)', url: '' } },
      { id: 7, callFrame: { functionName: 'boot', url: 'node:internal/modules/cjs/loader' } },
    ],
    samples: [7, 2, 3, 4, 5, 6, 2, 7],
    timeDeltas: [0, 10, 10, 10, 10, 10, 10, 10],
  };

  it('attributes native frames to their caller and leaves idle time out of the shares', () => {
    const summary = summarizeCpuProfile(profile);
    const share = (category: string): number | undefined =>
      summary.categories.find((entry) => entry.category === category)?.share;
    // Eight samples of 10 µs, one idle: 70 µs busy, of which the handler 2 + JSON.parse 1.
    expect(summary.busySeconds).toBeCloseTo(70e-6);
    expect(share('ingest handler (classify, records)')).toBeCloseTo(3 / 7);
    expect(share('validation (zod, contracts)')).toBeCloseTo(1 / 7);
    expect(share('garbage collection')).toBeCloseTo(1 / 7);
    expect(share('Node core (streams, buffers, sockets)')).toBeCloseTo(2 / 7);
  });

  it('counts only the window between the first and last sample of the code of interest', () => {
    const summary = summarizeCpuProfile(profile, { window: /services\/ingest/ });
    expect(summary.categories.map((entry) => entry.category)).not.toContain(
      'Node core (streams, buffers, sockets)',
    );
    expect(summary.busySeconds).toBeCloseTo(50e-6);
  });
});

describe('cpu usage', () => {
  it('turns tick differences into cores used', () => {
    const before = {
      atMs: 0,
      machineBusy: 100,
      machineTotal: 200,
      byGroup: new Map([['PostgreSQL', 50]]),
    };
    const after = {
      atMs: 2_000,
      machineBusy: 400,
      machineTotal: 600,
      byGroup: new Map([
        ['PostgreSQL', 150],
        ['ingest service', 80],
      ]),
    };
    const usage = cpuUsage(before, after);
    expect(usage.machineBusyShare).toBeCloseTo(0.75);
    expect(usage.cores).toEqual([
      { group: 'PostgreSQL', cores: 0.5 },
      { group: 'ingest service', cores: 0.4 },
    ]);
  });
});

describe('options and markdown', () => {
  it('parses sizes with k and m suffixes and refuses the rest', () => {
    expect(parseSize('400k')).toBe(400_000);
    expect(parseSize('2m')).toBe(2_000_000);
    expect(parseSize('1500')).toBe(1_500);
    expect(() => parseSize('0')).toThrow();
    expect(() => parseSize('ten')).toThrow();
  });

  it('keeps the suite order whatever order --only names the benchmarks in', () => {
    expect(parseOnly('trainer,ingest')).toEqual(['ingest', 'trainer']);
    expect(() => parseOnly('ingest,scorer')).toThrow(/scorer/);
  });

  it('escapes pipes in table cells', () => {
    expect(table(['a', 'b'], [['x|y', '1']])).toBe('| a | b |\n| --- | ---: |\n| x\\|y | 1 |');
  });
});

describe('cleanup', () => {
  it('undoes newest first, once, even when asked twice at the same time', async () => {
    const cleanup = new Cleanup();
    const done: string[] = [];
    cleanup.add('topics', () => Promise.resolve(done.push('topics')));
    const stopNow = cleanup.add('process', () => Promise.resolve(done.push('process')));
    cleanup.add('schema', () => Promise.resolve(done.push('schema')));
    await stopNow();
    await Promise.all([cleanup.runAll(), cleanup.runAll()]);
    await cleanup.runAll();
    expect(done).toEqual(['process', 'schema', 'topics']);
  });

  it('keeps going when a step fails', async () => {
    const cleanup = new Cleanup();
    const done: string[] = [];
    cleanup.add('first', () => Promise.resolve(done.push('first')));
    cleanup.add('broken', () => Promise.reject(new Error('gone')));
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await cleanup.runAll();
    } finally {
      write.mockRestore();
    }
    expect(done).toEqual(['first']);
  });
});
