#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publishedDocuments } from '../published';

/**
 * Writes the JSON Schemas and the AsyncAPI document to a folder (default docs/contracts), or with
 * `--check` exits 1 naming every file that is missing or differs (CI: the docs are current).
 */
function main(args: readonly string[]): number {
  const check = args.includes('--check');
  const folder = path.resolve(args.find((arg) => !arg.startsWith('--')) ?? 'docs/contracts');
  const documents = publishedDocuments();
  if (check) {
    const stale = Object.entries(documents).filter(([file, text]) => {
      try {
        return readFileSync(path.join(folder, file), 'utf8') !== text;
      } catch {
        return true;
      }
    });
    for (const [file] of stale) console.error(`${path.join(folder, file)} is not current`);
    if (stale.length > 0) console.error('run `npm run contracts` and commit the result');
    return stale.length > 0 ? 1 : 0;
  }
  mkdirSync(folder, { recursive: true });
  for (const [file, text] of Object.entries(documents))
    writeFileSync(path.join(folder, file), text);
  console.log(`wrote ${Object.keys(documents).length} files to ${folder}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
