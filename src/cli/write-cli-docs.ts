// `npm run readme`: rewrite the table of CLI commands in docs/cli.md from the command definitions.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withCommandTable } from './command-table';
import { buildProgram } from './program';

const file = path.resolve(__dirname, '../../docs/cli.md');
writeFileSync(file, withCommandTable(readFileSync(file, 'utf8'), buildProgram()));
console.log(`wrote the CLI command table to ${file}`);
