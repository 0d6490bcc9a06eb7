#!/usr/bin/env node
import { CommanderError } from 'commander';
import { StreamtrainError } from '@streamtrain/contracts';
import { runCli } from './program';

runCli(process.argv).catch((error: unknown) => {
  // Refusals and bad values are the operator's to fix: the message, without a stack trace.
  if (error instanceof StreamtrainError || error instanceof CommanderError) {
    console.error(`streamtrain: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
