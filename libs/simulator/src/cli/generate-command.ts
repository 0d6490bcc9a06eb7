import { Command, Option } from 'commander';
import { FILE_FORMATS } from '../formats/record-codecs';
import type { FileFormat } from '../formats/record-codecs';
import { writeSimulationFiles } from '../formats/simulation-files';
import { ProgressMeter, formatProgress } from '../progress';
import { createSimulation } from '../simulation';
import { formatCounts } from '../event-tally';
import { addSimulationOptions, simulatorOptionsFrom } from './options';
import type { SimulationCliOptions } from './options';
import { onInterrupt } from './signals';

interface GenerateCliOptions extends SimulationCliOptions {
  out: string;
  format: FileFormat;
}

async function generate(options: GenerateCliOptions): Promise<void> {
  const simulation = createSimulation(simulatorOptionsFrom(options));
  const { config } = simulation;
  console.error(
    `generating ~${Math.round(simulation.expectedTransactions).toLocaleString('en-US')} ` +
      `transactions: ${config.customers} customers, ${config.terminals} terminals, ` +
      `${config.days} days from ${config.startDate}, seed ${config.seed}`,
  );
  const controller = new AbortController();
  const release = onInterrupt(() => {
    console.error('interrupted: closing the files');
    controller.abort();
  });
  const progress = new ProgressMeter({ startMs: simulation.startMs, days: config.days });
  try {
    const files = await writeSimulationFiles(simulation.events(), {
      dir: options.out,
      format: options.format,
      progress,
      onProgress: (snapshot) => console.error(formatProgress(snapshot)),
      signal: controller.signal,
    });
    const final = progress.snapshot();
    console.log(formatCounts(final));
    console.log(`in ${(final.elapsedMs / 1000).toFixed(1)} s: ${Object.values(files).join(', ')}`);
    if (controller.signal.aborted) process.exitCode = 130;
  } finally {
    release();
  }
}

/** `streamtrain-sim generate`: writes a dataset (transactions, labels, ground truth) to files. */
export function generateCommand(): Command {
  return addSimulationOptions(
    new Command('generate').description(
      'write transactions, fraud labels and ground truth (txId, isFraud, scenario) to files',
    ),
  )
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .addOption(
      new Option('--format <format>', 'file format').choices(FILE_FORMATS).default('jsonl'),
    )
    .action(generate);
}
