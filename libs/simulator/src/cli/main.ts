#!/usr/bin/env node
import { StreamtrainError } from '@streamtrain/contracts';
import { Command } from 'commander';
import { generateCommand } from './generate-command';
import { streamCommand } from './stream-command';

const program = new Command('streamtrain-sim')
  .description(
    'Seeded fraud transaction simulator (Fraud Detection Handbook): files or a Kafka stream',
  )
  .addCommand(generateCommand())
  .addCommand(streamCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  // Bad options are the user's to fix: the message, without a stack trace.
  if (error instanceof StreamtrainError && error.code === 'CONFIG_INVALID') {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
