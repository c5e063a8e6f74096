// scripts/install-temporal-server builds the server the CLI's dev server embeds, and
// scripts/temporal-server registers the search attributes the runs set: both pinned in bash, checked here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config';
import { SEARCH_ATTRIBUTES } from '../../src/devserver';

const script = (name: string) => readFileSync(path.join(PROJECT_ROOT, 'scripts', name), 'utf8');
const CLI = path.join(PROJECT_ROOT, '.tools/bin/temporal');

describe('the production-shaped server scripts', () => {
  it('install the server version the Temporal CLI embeds', () => {
    const pinned = /^VERSION="v([\d.]+)"/m.exec(script('install-temporal-server'))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    if (!existsSync(CLI)) {
      if (process.env.CI === 'true') throw new Error(`CI=true but ${CLI} is missing`);
      console.warn(`!! skipped the CLI comparison: ${CLI} is missing (scripts/install-temporal-cli)`);
      return;
    }
    const embedded = /Server ([\d.]+)/.exec(execFileSync(CLI, ['--version'], { encoding: 'utf8' }))?.[1];
    expect(pinned).toBe(embedded);
  });

  it('register exactly the search attributes the dev server registers', () => {
    const list = /^search_attributes=\(([^)]*)\)/m.exec(script('temporal-server'))?.[1];
    expect(list?.trim().split(/\s+/).sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
  });
});
