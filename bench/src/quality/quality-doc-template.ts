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
micro-batches (one hour of event time by default), in one process, with no servers, calling the
same library code as the services. For each micro-batch:

1. _Score_ (the scorer): features of the batch's transactions are computed point in time by
   \`computeFeatures\` (the 15 baseline features of the handbook) from an in-memory history of the
   last 37 days and the fraud labels reported so far, and the current champion scores them. The
   score, the customer and the ground truth are recorded. Transactions that arrive before the
   first champion exists are not scored.
2. _Store features and mature examples_ (the pipeline): the event-time watermark advances to the
   batch's latest event, and examples mature as \`matureExamples\` does: a transaction whose fraud
   label has been reported by the watermark becomes a fraud example at once; one whose event time
   is at least 7 days behind the watermark with no fraud label becomes a genuine example; a fraud
   label arriving after that corrects the example to fraud (kept for 7 more days in the replay;
   with the default 1–7 day label delay it never happens).
3. _Train and gate_ (the trainer): one example in five is held out by a hash of its transaction
   id; the others wait, as the trainer's pending batches do, until at least 2,000 are pending
   (\`TRAINER_MIN_EXAMPLES\`). Then the latest version is warm-started from its artifact (so Adam
   restarts, as in the trainer) and trained on all of them (2 epochs, batch size 256, fraud
   weight 10, seed 42: the trainer's defaults); the candidate and the champion are measured on the
   20,000 most recent holdout examples and \`gateCandidate\` decides (a first champion needs 200
   holdout examples and 5 frauds; after that the candidate's AP may be at most 0.01 below the
   champion's).

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
node bench/dist/quality/main.js                 # the handbook's full simulation, about 6 minutes on 2 cores
node bench/dist/quality/main.js --days 70 --out-dir /tmp/quality   # a quicker look: the last 4 weeks are the test
\`\`\`

Options: \`--customers\`, \`--terminals\`, \`--days\`, \`--seed\` (the simulation); \`--micro-batch\`
(\`1h\`, \`30m\`, or a number of events); \`--backend auto|wasm|cpu\`; \`--out-dir\` (default
\`docs\`: writes \`QUALITY.md\`, \`quality-rolling-ap.svg\` and \`results/quality.json\`);
\`--test-start-day\`, \`--test-weeks\`; \`--epochs\`, \`--positive-weight\`,
\`--min-train-examples\` (1 trains on every micro-batch), \`--optimizer-state\` (\`reset\`, as the
trainer, or \`keep\`: the latest model keeps its Adam state between steps); \`--rolling-days\`. Progress goes to stderr; the table to stdout.
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
- **Holdout membership.** The warehouse holds out \`abs(hashtext(id)) % 5 = 0\` (PostgreSQL's
  \`hashtext\`); the replay uses 32-bit FNV-1a of the id modulo 5: the same share, other members.
- **Dataset.** Same generative process, different random draws (and scenario 3 marks each of a
  compromised customer's transactions as fraud with probability 1/3 rather than exactly a third of
  them); the fraud rate is reported above.
`;
