// The table of CLI commands in docs/cli.md is the one the definitions generate (`npm run readme`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandTable, withCommandTable } from '../../src/cli/command-table';
import { buildProgram } from '../../src/cli/program';

describe('docs/cli.md command table', () => {
  it('lists every command with its arguments and required options, as generated', () => {
    const table = commandTable(buildProgram());
    for (const usage of [
      '`start <runbook> --input <file>`',
      '`schedule create <runbook> --input <file>',
      '`watch <workflow-id>`',
      '`pending`',
    ])
      expect(table).toContain(usage);
    const doc = readFileSync(path.resolve(__dirname, '../../docs/cli.md'), 'utf8');
    expect(withCommandTable(doc, buildProgram()), 'docs/cli.md is stale: run npm run readme').toBe(doc);
  });
});
