import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { z } from 'zod';
import { connectAmqp } from '@streamtrain/amqp';
import { amqpEnvShape, loadConfig, warehouseEnvShape } from '@streamtrain/config';
import type { Env } from '@streamtrain/config';
import { loadBackend } from '@streamtrain/model';
import { relayOutbox } from '@streamtrain/service-kit';
import { REGISTRY_OUTBOX, createPool, pruneWarehouse } from '@streamtrain/warehouse';
import { historyRange } from '@streamtrain/features';
import type { Pool } from '@streamtrain/warehouse';
import { JobQueue } from '../adapters/job-queue';
import { ModelOperations } from '../operations/model-operations';
import { RETRAIN_WORKFLOWS } from '../workflow/retrain-workflow';
import { RunOperations } from '../workflow/run-operations';

/** The CLI's environment: the warehouse it operates on, and RabbitMQ to announce changes at once. */
const cliEnvSchema = z.object({
  ...warehouseEnvShape,
  /** When set, champion changes are published before the command returns; otherwise a running service relays them. */
  AMQP_URL: amqpEnvShape.AMQP_URL.optional(),
  AMQP_EXCHANGE: amqpEnvShape.AMQP_EXCHANGE,
  ORCHESTRATOR_MODEL_NAME: z.string().min(1).default('fraud'),
  ORCHESTRATOR_JOBS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .optional(),
  LOG_LEVEL: z.string().default('warn'),
  /** `warehouse prune` defaults: days kept (unset: keep forever). */
  RETENTION_TRANSACTIONS_DAYS: z.coerce.number().min(0).optional(),
  RETENTION_FEATURES_DAYS: z.coerce.number().min(0).optional(),
  RETENTION_EXAMPLES_DAYS: z.coerce.number().min(0).optional(),
  RETENTION_ARTIFACTS_DAYS: z.coerce.number().min(0).optional(),
});

/** Where the CLI writes. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const positiveInt = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('a positive integer expected');
  return parsed;
};

const nonNegative = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError('a number of days >= 0 expected');
  return parsed;
};

/** The longest look-back of the feature definition (`historyRange`), in milliseconds. */
function featureLookBackMs(): number {
  const probe = { transactionId: '', customerId: '', terminalId: '', amount: 0, eventTimeMs: 0 };
  return -historyRange([probe]).fromMs;
}

const fixed = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'n/a' : value.toFixed(4);

/**
 * The `streamtrain` command line: registry operations, runs and schedules, straight on the
 * warehouse (its credentials are the authority), the same code as the orchestrator's HTTP API.
 */
export function createCli(
  env: Env = process.env,
  io: CliIo = defaultIo(),
): { program: Command; close: () => Promise<void> } {
  let resources:
    | { pool: Pool; config: z.output<typeof cliEnvSchema>; queue?: JobQueue; logger: pino.Logger }
    | undefined;
  const open = () => {
    if (resources === undefined) {
      const config = loadConfig(cliEnvSchema, env);
      const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
      resources = {
        config,
        logger,
        pool: createPool({
          databaseUrl: config.DATABASE_URL,
          schema: config.WAREHOUSE_SCHEMA,
          logger,
          poolSize: 4,
        }),
      };
    }
    return resources;
  };
  const models = () => new ModelOperations(open().pool, open().config.ORCHESTRATOR_MODEL_NAME);
  const runOps = async () => {
    const opened = open();
    if (opened.queue === undefined) {
      opened.queue = new JobQueue({
        databaseUrl: opened.config.DATABASE_URL,
        schema:
          opened.config.ORCHESTRATOR_JOBS_SCHEMA ??
          `${opened.config.WAREHOUSE_SCHEMA}_jobs`.slice(0, 63),
        logger: opened.logger,
        worker: false,
      });
      await opened.queue.start(RETRAIN_WORKFLOWS.map((workflow) => workflow.name));
    }
    return new RunOperations(opened.pool, opened.queue, RETRAIN_WORKFLOWS);
  };
  /** Publishes what a command enqueued, when RabbitMQ is configured. */
  const publish = async (): Promise<string> => {
    const { config, pool, logger } = open();
    if (config.AMQP_URL === undefined)
      return 'model.published queued in the outbox (a running trainer or orchestrator relays it)';
    const amqp = await connectAmqp({
      url: config.AMQP_URL,
      exchange: config.AMQP_EXCHANGE,
      logger,
      onFatal: () => undefined,
    });
    try {
      const count = await relayOutbox({ pool, table: REGISTRY_OUTBOX, amqp, logger }).drain();
      return `model.published sent (${count} event${count === 1 ? '' : 's'})`;
    } finally {
      await amqp.close();
    }
  };
  const emit = (json: boolean, value: unknown, human: () => string[]) => {
    if (json) io.out(JSON.stringify(value, null, 2));
    else human().forEach((line) => io.out(line));
  };
  const actorOption = new Option('--actor <name>', 'who is acting, for the audit trail').default(
    safeUser(),
  );
  const reasonOption = () =>
    new Option('--reason <text>', 'why, for the audit trail').makeOptionMandatory();

  const program = new Command('streamtrain')
    .description('Operate the model registry, training runs and schedules')
    .showHelpAfterError();
  const close = async () => {
    const opened = resources;
    resources = undefined;
    await opened?.queue?.stop(5_000);
    await opened?.pool.end();
  };

  const model = program
    .command('model')
    .description('Model versions: list, inspect, promote, roll back, pin, export, rebuild');
  model
    .command('list')
    .description('List versions, newest first')
    .addOption(
      new Option('--status <status>', 'only versions with this status').choices([
        'champion',
        'rejected',
        'retired',
      ]),
    )
    .option('--limit <n>', 'versions per page', positiveInt, 20)
    .option('--page <n>', 'page number, from 1', positiveInt, 1)
    .option('--json', 'machine-readable output')
    .action(
      async (options: {
        status?: 'champion' | 'rejected' | 'retired';
        limit: number;
        page: number;
        json?: boolean;
      }) => {
        const page = await models().list({
          status: options.status,
          limit: options.limit,
          offset: (options.page - 1) * options.limit,
        });
        emit(options.json === true, page, () => [
          `${page.total} version(s); page ${options.page}`,
          ...page.versions.map(
            (v) =>
              `v${v.version}  ${v.versionId}  ${v.status.padEnd(8)}  AP ${fixed(v.metrics.averagePrecision)}  AUC ${fixed(v.metrics.auc)}  ${v.createdAt}`,
          ),
        ]);
      },
    );
  model
    .command('show')
    .description('One version: metrics, gate decision, lineage, aliases, audit rows')
    .argument('<versionId>')
    .option('--json', 'machine-readable output')
    .action(async (versionId: string, options: { json?: boolean }) => {
      const detail = await models().show(versionId);
      const { version: v } = detail;
      emit(options.json === true, detail, () => [
        `${v.versionId} (v${v.version}) ${v.status}${detail.aliases.length > 0 ? ` [${detail.aliases.join(', ')}]` : ''}`,
        `  holdout  AP ${fixed(v.metrics.averagePrecision)}  AUC ${fixed(v.metrics.auc)}  (${v.metrics.examples} examples, ${v.metrics.positives} fraud)`,
        `  champion at gate time  AP ${fixed(v.championMetrics?.averagePrecision)}`,
        `  gate: ${v.gateReason}`,
        `  lineage: parent ${v.lineage.parentVersionId ?? 'none'}; ${v.lineage.exampleSetIds.length} example set(s), ${v.lineage.sourceBatchIds.length} ingest batch(es), ${v.lineage.offsets.length} offset range(s); label cutoff ${v.lineage.labelCutoff ?? 'n/a'}`,
        ...(detail.pin === null
          ? []
          : [`  model pinned by ${detail.pin.actor}: ${detail.pin.reason}`]),
        ...detail.changes.map(
          (c) =>
            `  ${c.changedAt} ${c.action} ${c.fromVersionId ?? '-'} -> ${c.toVersionId ?? '-'} by ${c.actor}: ${c.reason}`,
        ),
      ]);
    });
  model
    .command('promote')
    .description('Make a version the champion (audited; model.published goes out)')
    .argument('<versionId>')
    .addOption(reasonOption())
    .addOption(actorOption)
    .option('--json', 'machine-readable output')
    .action(
      async (versionId: string, options: { reason: string; actor: string; json?: boolean }) => {
        const change = await models().promote(versionId, options);
        const published = await publish();
        emit(options.json === true, { ...change, published }, () => [
          `champion ${change.fromVersionId ?? 'none'} -> ${change.toVersionId} (audit #${change.changeId}); ${published}`,
        ]);
      },
    );
  model
    .command('rollback')
    .description('Roll the champion back to a named version, or to the one it replaced')
    .argument('[versionId]', 'the version to roll back to (default: the previous champion)')
    .addOption(reasonOption())
    .addOption(actorOption)
    .option('--json', 'machine-readable output')
    .action(
      async (
        versionId: string | undefined,
        options: { reason: string; actor: string; json?: boolean },
      ) => {
        const change = await models().rollback(versionId ?? null, options);
        const published = await publish();
        emit(options.json === true, { ...change, published }, () => [
          `rolled back ${change.fromVersionId ?? 'none'} -> ${change.toVersionId} (audit #${change.changeId}); ${published}`,
        ]);
      },
    );
  model
    .command('pin')
    .description('Freeze automatic promotion: the gate registers versions but keeps the champion')
    .addOption(reasonOption())
    .addOption(actorOption)
    .option('--json', 'machine-readable output')
    .action(async (options: { reason: string; actor: string; json?: boolean }) => {
      const pin = await models().pin(options);
      emit(options.json === true, pin, () => [
        `pinned by ${pin.actor} since ${pin.pinnedAt}: ${pin.reason}`,
      ]);
    });
  model
    .command('unpin')
    .description('Let the gate promote again')
    .option('--reason <text>', 'why, for the audit trail', 'unpinned')
    .addOption(actorOption)
    .option('--json', 'machine-readable output')
    .action(async (options: { reason: string; actor: string; json?: boolean }) => {
      const unpinned = await models().unpin(options);
      emit(options.json === true, { unpinned }, () => [unpinned ? 'unpinned' : 'was not pinned']);
    });
  model
    .command('audit')
    .description('Every alias change, newest first: who, when, why, the numbers')
    .option('--limit <n>', 'rows', positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: number; json?: boolean }) => {
      const changes = await models().audit(options.limit);
      emit(options.json === true, changes, () =>
        changes.map(
          (c) =>
            `#${c.id} ${c.changedAt} ${c.action.padEnd(13)} ${c.fromVersionId ?? '-'} -> ${c.toVersionId ?? '-'} by ${c.actor}: ${c.reason}`,
        ),
      );
    });
  model
    .command('export')
    .description('Write model.json + weights.bin (tfjs), normaliser.json and feature-spec.json')
    .argument('<versionId>')
    .requiredOption('--out <dir>', 'directory to write to (created)')
    .option('--json', 'machine-readable output')
    .action(async (versionId: string, options: { out: string; json?: boolean }) => {
      const exported = await models().export(versionId);
      await mkdir(options.out, { recursive: true });
      const files: string[] = [];
      for (const [name, content] of Object.entries(exported)) {
        const file = path.join(options.out, name);
        await writeFile(
          file,
          Buffer.isBuffer(content) ? content : `${JSON.stringify(content, null, 2)}\n`,
        );
        files.push(file);
      }
      emit(options.json === true, { versionId, files }, () => files.map((file) => `wrote ${file}`));
    });
  model
    .command('rebuild')
    .description(
      'Retrain a version from the rows its lineage names; report whether the weights are identical',
    )
    .argument('<versionId>')
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option(
      '--epochs <n>',
      'for versions without recorded options (trainer default)',
      positiveInt,
      2,
    )
    .option('--batch-size <n>', 'likewise', positiveInt, 256)
    .option('--positive-weight <n>', 'likewise', Number, 10)
    .option('--seed <n>', 'likewise', positiveInt, 42)
    .option('--json', 'machine-readable output')
    .action(
      async (
        versionId: string,
        options: {
          backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
          epochs: number;
          batchSize: number;
          positiveWeight: number;
          seed: number;
          json?: boolean;
        },
      ) => {
        const { backend } = await loadBackend({
          preferred: options.backend,
          logger: open().logger,
        });
        const report = await models().rebuild(versionId, backend, {
          epochs: options.epochs,
          batchSize: options.batchSize,
          positiveWeight: options.positiveWeight,
          seed: options.seed,
        });
        emit(options.json === true, report, () => [
          `${report.versionId}: rebuilt from ${report.source} (${report.examples} examples) on ${report.rebuiltBackend} (stored: ${report.storedBackend})`,
          report.identical
            ? `weights identical (sha256 ${report.rebuiltWeightsSha256})`
            : `weights differ: max |diff| ${report.maxAbsDifference} (stored ${report.storedWeightsSha256}, rebuilt ${report.rebuiltWeightsSha256})`,
        ]);
        if (!report.identical) process.exitCode = 3;
      },
    );

  const runs = program.command('runs').description('Workflow runs: history, trigger, cancel');
  runs
    .command('list')
    .description('Run history, newest first')
    .option('--workflow <name>', 'only this workflow')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'queued',
        'running',
        'succeeded',
        'failed',
        'cancelled',
      ]),
    )
    .option('--limit <n>', 'runs', positiveInt, 20)
    .option('--json', 'machine-readable output')
    .action(
      async (options: { workflow?: string; status?: 'queued'; limit: number; json?: boolean }) => {
        const list = await (await runOps()).list(options);
        emit(options.json === true, list, () =>
          list.map(
            (run) =>
              `${run.runId}  ${run.workflow.padEnd(12)} ${run.status.padEnd(9)} ${run.trigger.kind.padEnd(11)} ${run.createdAt}  ${run.versionId ?? ''}${run.promoted === null ? '' : run.promoted ? ' promoted' : ' kept champion'}`,
          ),
        );
      },
    );
  runs
    .command('show')
    .description('One run: status, steps with timings, metrics, version, gate decision')
    .argument('<runId>')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, options: { json?: boolean }) => {
      const run = await (await runOps()).show(runId);
      if (run === null) throw new InvalidArgumentError(`no run ${runId}`);
      emit(options.json === true, run, () => [
        `${run.runId} ${run.workflow} ${run.status} (trigger ${run.trigger.kind} by ${run.trigger.by}: ${run.trigger.reason}; attempts ${run.attempts})`,
        ...run.steps.map(
          (s) =>
            `  ${s.step.padEnd(10)} ${s.status.padEnd(9)} ${s.seconds === null ? '' : `${s.seconds.toFixed(2)}s`} attempts ${s.attempts}${s.error === null ? '' : ` error: ${s.error}`}`,
        ),
        ...(run.versionId === null
          ? []
          : [
              `  version ${run.versionId}: ${run.promoted === true ? 'promoted' : 'not promoted'} — ${run.gateReason ?? ''}`,
            ]),
        ...(run.error === null ? [] : [`  error: ${run.error}`]),
      ]);
    });
  runs
    .command('trigger')
    .description('Queue a run now (absorbed when one is already queued)')
    .argument('[workflow]', 'workflow name', 'retrain')
    .option('--reason <text>', 'why', 'manual run')
    .addOption(actorOption)
    .option('--param <key=value...>', 'run parameter, e.g. trainDays=14 (JSON values)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        workflow: string,
        options: { reason: string; actor: string; param?: string[]; json?: boolean },
      ) => {
        const params = Object.fromEntries(
          (options.param ?? []).map((pair) => {
            const at = pair.indexOf('=');
            if (at <= 0) throw new InvalidArgumentError(`--param ${pair}: key=value expected`);
            const raw = pair.slice(at + 1);
            let value: unknown = raw;
            try {
              value = JSON.parse(raw);
            } catch {
              /* a plain string */
            }
            return [pair.slice(0, at), value];
          }),
        );
        const outcome = await (
          await runOps()
        ).trigger(
          workflow,
          { kind: 'manual', key: null, by: `cli:${options.actor}`, reason: options.reason },
          params,
        );
        emit(options.json === true, outcome, () => [
          outcome.started ? `queued run ${outcome.runId}` : `not started: ${outcome.reason}`,
        ]);
      },
    );
  runs
    .command('cancel')
    .description('Stop a run before its next step')
    .argument('<runId>')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, options: { json?: boolean }) => {
      const status = await (await runOps()).cancel(runId);
      if (status === null) throw new InvalidArgumentError(`no run ${runId}`);
      emit(options.json === true, { runId, status, cancelRequested: true }, () => [
        `cancel requested (run was ${status})`,
      ]);
    });

  const schedules = program
    .command('schedules')
    .description('Cron schedules of the workflows (stored; no redeploy)');
  schedules
    .command('list')
    .description('Stored schedules and their next firings')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const list = await (await runOps()).schedules();
      emit(options.json === true, list, () =>
        list.length === 0
          ? ['no schedules']
          : list.map(
              (s) =>
                `${s.workflow.padEnd(12)} ${s.cron} (${s.timezone})  next ${s.nextRuns[0] ?? '-'}`,
            ),
      );
    });
  schedules
    .command('set')
    .description('Create or replace a workflow schedule')
    .argument('<workflow>')
    .argument('<cron>', 'five-field cron, e.g. "0 3 * * 1" (Mondays 03:00)')
    .option('--tz <zone>', 'IANA time zone', 'UTC')
    .option('--json', 'machine-readable output')
    .action(async (workflow: string, cron: string, options: { tz: string; json?: boolean }) => {
      const schedule = await (await runOps()).setSchedule(workflow, cron, options.tz);
      emit(options.json === true, schedule, () => [
        `${workflow}: ${cron} (${options.tz}); next ${schedule.nextRuns.join(', ')}`,
      ]);
    });
  schedules
    .command('remove')
    .description('Remove a workflow schedule')
    .argument('<workflow>')
    .option('--json', 'machine-readable output')
    .action(async (workflow: string, options: { json?: boolean }) => {
      await (await runOps()).removeSchedule(workflow);
      emit(options.json === true, { workflow, removed: true }, () => [
        `${workflow}: schedule removed`,
      ]);
    });
  program
    .command('workflows')
    .description('The workflows defined in code')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => {
      const list = RETRAIN_WORKFLOWS.map(({ name, description }) => ({ name, description }));
      emit(options.json === true, list, () =>
        list.map((w) => `${w.name.padEnd(12)} ${w.description}`),
      );
    });
  const warehouse = program.command('warehouse').description('The warehouse: retention');
  const daysOption = (flag: string, what: string, env: number | undefined) => {
    const option = new Option(
      `${flag} <days>`,
      `keep ${what} this many days (default: keep)`,
    ).argParser(nonNegative);
    return env === undefined ? option : option.default(env);
  };
  // Defaults from the environment, read without connecting (help works without a database).
  const retention = cliEnvSchema.partial().safeParse(env);
  const retentionEnv = () => (retention.success ? retention.data : undefined);
  warehouse
    .command('prune')
    .description(
      'Delete rows older than the retention, in batches, under an advisory lock; never what live ' +
        'features or maturing labels need; model versions and lineage stay',
    )
    .addOption(
      daysOption(
        '--transactions-days',
        'transactions and labels',
        retentionEnv()?.RETENTION_TRANSACTIONS_DAYS,
      ),
    )
    .addOption(
      daysOption('--features-days', 'feature vectors', retentionEnv()?.RETENTION_FEATURES_DAYS),
    )
    .addOption(
      daysOption(
        '--examples-days',
        'training examples and holdout',
        retentionEnv()?.RETENTION_EXAMPLES_DAYS,
      ),
    )
    .addOption(
      daysOption(
        '--artifacts-days',
        'artifacts of versions no alias points at (by registration time)',
        retentionEnv()?.RETENTION_ARTIFACTS_DAYS,
      ),
    )
    .option('--batch-size <n>', 'rows per delete statement', positiveInt, 5000)
    .option('--dry-run', 'count what would go, delete nothing')
    .option('--json', 'machine-readable output')
    .action(
      async (options: {
        transactionsDays?: number;
        featuresDays?: number;
        examplesDays?: number;
        artifactsDays?: number;
        batchSize: number;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        const report = await pruneWarehouse(open().pool, {
          policy: {
            transactionsDays: options.transactionsDays ?? null,
            featuresDays: options.featuresDays ?? null,
            examplesDays: options.examplesDays ?? null,
            artifactsDays: options.artifactsDays ?? null,
          },
          lookBackMs: featureLookBackMs(),
          dryRun: options.dryRun === true,
          batchSize: options.batchSize,
        });
        emit(options.json === true, report, () => [
          `${report.dryRun ? 'would prune' : 'pruned'}: ${Object.entries(report.rows)
            .map(([table, n]) => `${n} ${table}`)
            .join(', ')}`,
          ...Object.entries(report.cutoffs).map(
            ([kind, cutoff]) => `  ${kind.padEnd(12)} before ${cutoff ?? '- (kept)'}`,
          ),
        ]);
      },
    );
  return { program, close };
}

/** Runs one command line and closes what it opened, whatever happened. */
export async function runCli(
  argv: readonly string[],
  env: Env = process.env,
  io?: CliIo,
): Promise<void> {
  const { program, close } = createCli(env, io);
  try {
    await program.parseAsync(argv);
  } finally {
    await close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function defaultIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}
