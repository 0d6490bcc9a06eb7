import { featureNames } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { InMemoryPipelineStore } from '../../adapters/in-memory-pipeline-store';
import { countCorrections, matureCandidates } from '../maturity';
import { runPipelinePass } from '../pipeline-pass';
import { PipelineFeatureState } from '../pipeline-feature-state';

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');
const MATURITY = 7 * DAY;

function tx(i: number, atMs: number): FeatureInput {
  return {
    transactionId: `t${i}`,
    customerId: `c${i % 20}`,
    terminalId: `m${i % 30}`,
    amount: 10 + (i % 50),
    eventTimeMs: atMs,
  };
}

/** One feature state per store, kept across its passes as the service keeps it. */
const states = new WeakMap<InMemoryPipelineStore, PipelineFeatureState>();
function stateOf(store: InMemoryPipelineStore): PipelineFeatureState {
  let state = states.get(store);
  if (state === undefined) {
    state = new PipelineFeatureState();
    states.set(store, state);
  }
  return state;
}

const fraud = (id: string, atMs: number): KnownLabel => ({
  transactionId: id,
  isFraud: true,
  reportedAtMs: atMs,
});

const genuine = (id: string, atMs: number): KnownLabel => ({
  transactionId: id,
  isFraud: false,
  reportedAtMs: atMs,
});

describe('maturity rule', () => {
  it('labels by a fraud report up to the watermark, adds each example once and corrects a genuine one to fraud', () => {
    const examples = matureCandidates(
      [
        { transactionId: 'a', eventTimeMs: 1, fraudReportedAtMs: null, currentLabel: null },
        { transactionId: 'b', eventTimeMs: 2, fraudReportedAtMs: 50, currentLabel: null },
        { transactionId: 'c', eventTimeMs: 3, fraudReportedAtMs: 150, currentLabel: null },
        { transactionId: 'd', eventTimeMs: 4, fraudReportedAtMs: 60, currentLabel: 0 },
        { transactionId: 'e', eventTimeMs: 5, fraudReportedAtMs: 60, currentLabel: 1 },
        { transactionId: 'f', eventTimeMs: 6, fraudReportedAtMs: null, currentLabel: 0 },
        { transactionId: 'a', eventTimeMs: 1, fraudReportedAtMs: null, currentLabel: null },
      ],
      100,
    );
    expect(examples).toEqual([
      { transactionId: 'a', eventTimeMs: 1, label: 0, corrected: false },
      { transactionId: 'b', eventTimeMs: 2, label: 1, corrected: false },
      { transactionId: 'c', eventTimeMs: 3, label: 0, corrected: false },
      { transactionId: 'd', eventTimeMs: 4, label: 1, corrected: true },
    ]);
  });

  // Issue 13 item 7: a reversed chargeback was dropped without a trace.
  it('corrects a fraud example to genuine once a "not fraud" verdict reversing it is reported by the watermark', () => {
    const examples = matureCandidates(
      [
        {
          transactionId: 'a',
          eventTimeMs: 1,
          fraudReportedAtMs: null,
          genuineReportedAtMs: 90,
          currentLabel: 1,
        },
        {
          transactionId: 'b',
          eventTimeMs: 2,
          fraudReportedAtMs: null,
          genuineReportedAtMs: 150,
          currentLabel: 1,
        },
        {
          transactionId: 'c',
          eventTimeMs: 3,
          fraudReportedAtMs: null,
          genuineReportedAtMs: 90,
          currentLabel: 0,
        },
        {
          transactionId: 'd',
          eventTimeMs: 4,
          fraudReportedAtMs: null,
          genuineReportedAtMs: 90,
          currentLabel: null,
        },
      ],
      100,
    );
    expect(examples).toEqual([
      { transactionId: 'a', eventTimeMs: 1, label: 0, corrected: true },
      { transactionId: 'd', eventTimeMs: 4, label: 0, corrected: false },
    ]);
    expect(countCorrections(examples)).toEqual({ toFraud: 0, toGenuine: 1 });
  });
});

describe('pipeline pass', () => {
  it('when batches arrive, then features are stored, examples mature with their labels and one features.ready per batch is announced', async () => {
    const store = new InMemoryPipelineStore();
    const early = Array.from({ length: 50 }, (_, i) => tx(i, T0 + i * 3_600_000));
    store.land('b1', early, []);
    const first = await runPipelinePass(store, ['b1'], {
      maturityMs: MATURITY,
      featureState: stateOf(store),
    });
    expect(first).toMatchObject({ batches: 1, features: 50, examples: 0 });
    expect(store.featuresOf('t0')).toHaveLength(featureNames().length);

    // A fraud label for t3 (known early) and, 8 days on, a batch that matures the first day.
    store.land('b2', [], [fraud('t3', T0 + 2 * DAY)]);
    const second = await runPipelinePass(store, ['b2'], {
      maturityMs: MATURITY,
      featureState: stateOf(store),
    });
    expect(second.examples).toBe(1);
    store.land('b3', [tx(100, T0 + 8 * DAY)], []);
    await runPipelinePass(store, ['b3'], { maturityMs: MATURITY, featureState: stateOf(store) });
    const examples = store.allExamples();
    const matured = examples.filter((example) => example.exampleSetId === 'b3');
    expect(matured.map((example) => example.transactionId)).toEqual(
      early
        .filter((t) => t.eventTimeMs <= T0 + DAY && t.transactionId !== 't3')
        .map((t) => t.transactionId),
    );
    expect(examples.find((example) => example.transactionId === 't3')).toMatchObject({
      label: 1,
      exampleSetId: 'b2',
    });
    expect(store.announcements().map((event) => [event.batchId, event.exampleCount])).toEqual([
      ['b1', 0],
      ['b2', 1],
      ['b3', matured.length],
    ]);
    expect(store.announcements()[2]?.watermark).toBe(new Date(T0 + 8 * DAY).toISOString());
  });

  it('when a batch is passed again, then nothing is written twice', async () => {
    const store = new InMemoryPipelineStore();
    store.land('b1', [tx(1, T0)], []);
    await runPipelinePass(store, ['b1'], { maturityMs: MATURITY, featureState: stateOf(store) });
    const again = await runPipelinePass(store, ['b1', 'b1'], {
      maturityMs: MATURITY,
      featureState: stateOf(store),
    });
    expect(again).toMatchObject({ batches: 0, duplicates: 2 });
    expect(store.announcements()).toHaveLength(1);
  });

  it('when a fraud label arrives after its transaction matured as genuine, then the example is corrected to fraud', async () => {
    const store = new InMemoryPipelineStore();
    store.land('b1', [tx(1, T0)], []);
    await runPipelinePass(store, ['b1'], { maturityMs: MATURITY, featureState: stateOf(store) });
    store.land('b2', [tx(2, T0 + 8 * DAY)], []);
    await runPipelinePass(store, ['b2'], { maturityMs: MATURITY, featureState: stateOf(store) });
    expect(store.allExamples()[0]).toMatchObject({ transactionId: 't1', label: 0 });
    store.land('b3', [], [fraud('t1', T0 + 8 * DAY)]);
    const pass = await runPipelinePass(store, ['b3'], {
      maturityMs: MATURITY,
      featureState: stateOf(store),
    });
    expect(pass.examples).toBe(1);
    expect(store.allExamples()[0]).toMatchObject({ label: 1, exampleSetId: 'b3' });
    expect(store.exampleCounts().corrected).toBe(1);
  });

  // Issue 13 item 7: a later "not fraud" label for the same transaction was dropped.
  it('when a later "not fraud" label reverses a fraud label, then the example is re-labelled genuine and counted, also after it matured as fraud, and a later fraud verdict turns it back', async () => {
    const store = new InMemoryPipelineStore();
    store.land('b1', [tx(1, T0), tx(2, T0 + 3_600_000), tx(3, T0 + 7_200_000)], []);
    await runPipelinePass(store, ['b1'], { maturityMs: MATURITY });
    store.land('b2', [], [fraud('t1', T0 + DAY), fraud('t2', T0 + DAY)]);
    await runPipelinePass(store, ['b2'], { maturityMs: MATURITY });
    // Known early as fraud, then matured (the watermark passes their maturity window).
    store.land('b3', [tx(4, T0 + 8 * DAY)], []);
    await runPipelinePass(store, ['b3'], { maturityMs: MATURITY });
    expect(store.allExamples().map((e) => [e.transactionId, e.label])).toEqual([
      ['t1', 1],
      ['t2', 1],
      ['t3', 0],
    ]);

    store.land('b4', [], [genuine('t1', T0 + 9 * DAY)]);
    const reversal = await runPipelinePass(store, ['b4'], { maturityMs: MATURITY });
    expect(reversal).toMatchObject({ examples: 1, corrections: { toFraud: 0, toGenuine: 1 } });
    expect(store.allExamples()[0]).toMatchObject({
      transactionId: 't1',
      label: 0,
      exampleSetId: 'b4',
    });
    expect(store.allExamples()[1]).toMatchObject({ transactionId: 't2', label: 1 });

    // The same verdict again (a redelivery under another batch) changes nothing.
    store.land('b5', [], [genuine('t1', T0 + 9 * DAY)]);
    const again = await runPipelinePass(store, ['b5'], { maturityMs: MATURITY });
    expect(again).toMatchObject({ examples: 0, corrections: { toFraud: 0, toGenuine: 0 } });

    store.land('b6', [], [fraud('t1', T0 + 10 * DAY)]);
    const back = await runPipelinePass(store, ['b6'], { maturityMs: MATURITY });
    expect(back).toMatchObject({ examples: 1, corrections: { toFraud: 1, toGenuine: 0 } });
    expect(store.allExamples()[0]).toMatchObject({
      transactionId: 't1',
      label: 1,
      exampleSetId: 'b6',
    });
    expect(store.exampleCounts().corrected).toBe(2);
  });

  it('when chunked, then the features are the same as in one computation', async () => {
    const batch = Array.from({ length: 300 }, (_, i) => tx(i, T0 + i * 60_000));
    const whole = new InMemoryPipelineStore();
    const chunked = new InMemoryPipelineStore();
    whole.land('b1', batch, []);
    chunked.land('b1', batch, []);
    await runPipelinePass(whole, ['b1'], {
      maturityMs: MATURITY,
      featureState: stateOf(whole),
      featureChunk: 1000,
    });
    await runPipelinePass(chunked, ['b1'], {
      maturityMs: MATURITY,
      featureState: stateOf(chunked),
      featureChunk: 7,
    });
    for (const t of batch) {
      expect(chunked.featuresOf(t.transactionId)).toEqual(whole.featuresOf(t.transactionId));
    }
  });

  // Issue 13 item 5: a large pass held the event loop for over a second, so /readyz timed out.
  it('when a pass computes features for a large batch, then the event loop gets turns while it runs', async () => {
    const store = new InMemoryPipelineStore();
    store.land(
      'b1',
      Array.from({ length: 5000 }, (_, i) => tx(i, T0 + i * 10_000)),
      [],
    );
    let turns = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    await runPipelinePass(store, ['b1'], { maturityMs: MATURITY, featureState: stateOf(store) });
    running = false;
    expect(turns).toBeGreaterThanOrEqual(4);
  });
});
