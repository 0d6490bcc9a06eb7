/**
 * `QUALITY.md` for an output directory that has none yet. `{{results}}` is replaced by the
 * generated section; everything else is hand-maintained text that later runs leave alone.
 */
export const QUALITY_DOC_TEMPLATE = `# Model quality, measured with the Fraud Detection Handbook's protocol

How good is the fraud model the system trains continuously, and how does that compare with the
figures of the Fraud Detection Handbook (Le Borgne et al., _Reproducible Machine Learning for
Credit Card Fraud Detection – Practical Handbook_)? This page answers with the handbook's three
metrics on the handbook's simulated data, each transaction scored the way the live system scores
it: by the model that was champion when the transaction arrived (prequential evaluation).

## Results

{{results}}

## Method

**Data.** \`libs/simulator\` with the handbook's default simulation unless options say otherwise:
5,000 customers, 10,000 terminals, 183 days from 2018-04-01, the handbook's three fraud scenarios,
and fraud labels reported 1 to 7 days (uniform) after their transaction. It is the handbook's
generative process, not its random draws: the dataset is alike, not identical.

**Replay.** \`bench/src/quality\` replays the simulator's events in event-time order, in
micro-batches (one hour of event time by default), in one process, with no servers, driving the
product's own code with the in-memory stores (\`InMemoryPipelineStore\` from \`@streamtrain/pipeline\`,
\`InMemoryTrainerStore\` from \`@streamtrain/training\`), which implement the same \`PipelineStore\` and
\`TrainerStore\` ports as the warehouse; \`services/trainer/test/stores-agree.test.ts\` checks that a
replay through both gives the same examples, holdout and versions. For each micro-batch:

1. _Land_ (ingest): the batch's transactions and labels land in the in-memory warehouse.
2. _Pipeline pass_ (\`runPipelinePass\`, the pipeline's domain): point-in-time features of the
   batch's transactions (\`computeFeatures\`, the 15 baseline features of the handbook), the
   watermark advanced (\`advanceWatermark\`), and the examples whose label is now known matured by
   the pipeline's maturity rule (\`matureCandidates\`): a fraud example once its fraud label is
   reported by the watermark; a genuine one 7 days after its transaction with no fraud label; a
   late fraud label corrects a genuine example. One \`features.ready\` per batch, with the watermark.
3. _Score_ (the scorer): the champion of the moment scores the batch's transactions on those
   features, and so do the two batch peers' current models. Transactions that arrive before the
   first champion exists are not scored.
4. _Train and gate_ (\`ContinuousTrainer\`, \`@streamtrain/training\`): the trainer accepts each
   \`features.ready\` batch (its holdout members, one example in five by 32-bit FNV-1a of the
   transaction id, recorded as they arrive; its training examples counted), and once 2,000 are
   pending (\`TRAINER_MIN_EXAMPLES\`) the latest version is warm-started from its artifact (Adam
   restarts, as in the trainer) and trained on them (2 epochs, batch size 256, fraud weight 10,
   seed 42: the trainer's defaults); the candidate and the champion are measured on the 20,000
   most recent holdout examples and \`gateCandidate\` decides (a first champion needs 200 holdout
   examples and 5 frauds; after that the candidate's AP may be at most 0.01 below the champion's).

**Batch peers, in the same run** (\`retrainOnWindow\`, \`@streamtrain/training\`, the orchestrated
path's policy; same network, features and examples, every retrain deployed):

- _frozen_: trained once from scratch, on day 35 (\`--frozen-day\`), on every matured training
  example before it, and never again;
- _weekly_: retrained from scratch every 7 days on the 14 days (\`--peer-window-days\`) of matured
  training examples ending at the maturity horizon (7 days before the retrain), as the handbook's
  folds end a delay period before their test week.

Both train 5 epochs (\`--peer-epochs\`): a fresh model on a window needs more passes than a warm
start on 2,000 new examples.

**Test weeks.** The handbook's own: four weeks starting 2018-08-08 (simulated days 129–156). In
the handbook each week is a fold: a model trained on the week that ends 7 days before it (its
training starts on 2018-07-25, -08-01, -08-08 and -08-15). Here the model has trained continuously
since day 0, and each test transaction is scored by the champion of its arrival. A run too short to
reach these weeks tests on its last four weeks instead (\`--test-start-day\` and \`--test-weeks\`
choose others).

**Metrics** (\`libs/metrics\`, which follows scikit-learn and the handbook):

- _AUC ROC_ and _Average Precision_ over the week's test transactions;
- _Card Precision@100_: each day, every card (customer) is scored by its highest-scoring
  transaction, the 100 highest cards are checked, and the precision is the number of compromised
  ones divided by 100; cards caught on an earlier day of the same week are left out, as the
  handbook's \`card_precision_top_k\` does; the mean over the week's days;
- each figure is computed per test week and averaged over the four weeks, as the handbook's
  prequential test estimate averages its folds.

**Cards already known to be compromised** are removed from the test transactions, for all three
metrics, as the handbook's \`get_train_test_set\` removes them. The headline rule is what the live
system knows: a customer with a fraud label reported between the start of the fold's training week
(14 days before the test week) and the start of the day. The table also shows the same scores under
the handbook's rule (from ground truth: a fraudulent transaction between the start of the training
week and 8 days before the day) and with no card removed.

**Rolling AP** ([quality-rolling-ap.svg](quality-rolling-ap.svg)): for every day, the average
precision of the last 7 days' transactions, leaving out cards with a fraud label reported in the
14 days before the day; below it, the number of promotions per day.

## How to reproduce

\`\`\`sh
npm run build
node bench/dist/quality/main.js                 # the handbook's full simulation, under 10 minutes on 2 cores, progress on stderr
node bench/dist/quality/main.js --days 70 --out-dir /tmp/quality   # a quicker look: the last 4 weeks are the test
\`\`\`

Options: \`--customers\`, \`--terminals\`, \`--days\`, \`--seed\` (the simulation); \`--micro-batch\`
(\`1h\`, \`30m\`, or a number of events); \`--backend auto|wasm|cpu\`; \`--out-dir\` (default
\`docs\`: writes \`QUALITY.md\`, \`quality-rolling-ap.svg\` and \`results/quality.json\`);
\`--test-start-day\`, \`--test-weeks\`; \`--epochs\`, \`--positive-weight\`,
\`--min-train-examples\` (1 trains on every micro-batch); \`--frozen-day\`, \`--peer-window-days\`,
\`--peer-epochs\` (the batch peers); \`--rolling-days\`. Progress goes to stderr; the table to stdout.
A re-run rewrites only the part of this page between the \`quality:results\` markers.

## Where this differs from the handbook's protocol

- **Training.** The handbook fits a fresh model per fold on exactly one week of transactions with
  their ground truth, its hyper-parameters chosen by a validation grid search. Here one model
  trains continuously in hourly increments, on the examples that matured, with the trainer's fixed
  settings, and a gate may keep an older champion serving.
- **Labels.** The handbook's training week has complete labels. Here a fraud example exists once
  its label is reported, a genuine one 7 days after the transaction; with labels reported within 7
  days this is complete too, only later.
- **Known compromised cards.** The handbook knows a fraud from ground truth 7 days after it; the
  headline rule here uses the labels actually reported, often sooner (1 to 7 days), so it removes
  more cards. Both are in the table.
- **Terminal risk features** use only labels reported by the transaction's time, where the handbook
  reads the ground truth of a window that ends 7 days before; with labels at most 7 days late the
  values are the same.
- **Model.** A 15-32-16-1 ReLU network with Adam (learning rate 0.001), a class weight of 10 and
  running standardisation; the handbook's feed-forward network was tuned by grid search.
- **Holdout membership** is one rule (\`isHoldout\` in \`@streamtrain/training\`: 32-bit FNV-1a of
  the id modulo 5), decided by the trainer as it accepts a batch: the warehouse and the replay pick
  the same members.
- **Dataset.** Same generative process, different random draws (and scenario 3 marks each of a
  compromised customer's transactions as fraud with probability 1/3 rather than exactly a third of
  them); the fraud rate is reported above.
`;
