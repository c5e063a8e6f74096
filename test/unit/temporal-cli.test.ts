// ensureTemporalCli: with no Temporal CLI anywhere it runs scripts/install-temporal-cli and uses what
// that built; without Go it fails with the script's message. Go itself is faked (a script that
// writes an executable `temporal` stub into GOBIN): this tests the orchestration, not the Go build.
// The project's own .tools/ stays invisible: WABA_TOOLS_DIR points into a temp dir.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli, resolveTemporalCli } from '../../src/temporal-cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'waba-temporal-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A PATH holding only what the install script needs, plus (optionally) a fake `go`. */
function sandbox(name: string, withGo: boolean): { env: NodeJS.ProcessEnv; tools: string; goLog: string } {
  const dir = path.join(tmp, name);
  const bin = path.join(dir, 'path');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['bash', 'dirname', 'mkdir', 'cat', 'chmod']) {
    const real = execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(real, path.join(bin, tool));
  }
  const goLog = path.join(dir, 'go.log');
  if (withGo) {
    const fakeGo = [
      '#!/usr/bin/env bash',
      `echo "GOBIN=$GOBIN go $*" >> '${goLog}'`,
      'case "$1" in',
      '  version) echo "go version go0.0-fake linux/amd64" ;;',
      '  install)',
      '    mkdir -p "$GOBIN"',
      `    printf '#!/bin/sh\\necho "temporal version 0.0.0-fake"\\n' > "$GOBIN/temporal"`,
      '    chmod +x "$GOBIN/temporal" ;;',
      '  *) exit 2 ;;',
      'esac',
      '',
    ].join('\n');
    writeFileSync(path.join(bin, 'go'), fakeGo);
    chmodSync(path.join(bin, 'go'), 0o755);
  }
  const tools = path.join(dir, 'tools');
  return { env: { PATH: bin, HOME: dir, WABA_TOOLS_DIR: tools }, tools, goLog };
}

describe('ensureTemporalCli', () => {
  it('builds the CLI with Go when none is found, says so, then uses it', async () => {
    const { env, tools, goLog } = sandbox('with-go', true);
    expect(resolveTemporalCli(env)).toBeUndefined();
    const said: string[] = [];
    const output: string[] = [];
    const cli = await ensureTemporalCli({ env, say: (l) => said.push(l), onOutput: (t) => output.push(t) });

    const target = path.join(tools, 'bin', 'temporal');
    expect(cli).toEqual({ path: target, source: 'project tools' });
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('Temporal CLI not found: building it with Go into');
    expect(said[0]).toContain(target);
    expect(said[0]).toContain('(scripts/install-temporal-cli), a few minutes the first time');
    // The install script ran the (fake) go install of the pinned CLI into the tools directory.
    expect(readFileSync(goLog, 'utf8')).toContain(
      `GOBIN=${path.join(tools, 'bin')} go install github.com/temporalio/cli/cmd/temporal@v1.5.1`,
    );
    expect(output.join('')).toContain('building the Temporal CLI v1.5.1 with go version go0.0-fake');
    expect(execFileSync(cli.path, ['--version'], { encoding: 'utf8' })).toContain('0.0.0-fake');

    // Found from now on: nothing is built again.
    const again = await ensureTemporalCli({ env, say: (l) => said.push(l), onOutput: () => {} });
    expect(again).toEqual(cli);
    expect(said).toHaveLength(1);
  });

  it("without Go fails with the install script's message (what to install)", async () => {
    const { env, tools } = sandbox('without-go', false);
    const said: string[] = [];
    const error = await ensureTemporalCli({ env, say: (l) => said.push(l), onOutput: () => {} }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('the Temporal CLI is not installed and could not be built');
    expect(message).toContain('Go is not installed');
    expect(message).toContain('brew install temporal');
    expect(message).toContain('TEMPORAL_CLI_PATH');
    expect(said[0]).toContain('Temporal CLI not found: building it with Go');
    expect(existsSync(path.join(tools, 'bin', 'temporal'))).toBe(false);
  });

  it('uses TEMPORAL_CLI_PATH or PATH when they have one, building nothing', async () => {
    const { env } = sandbox('found', false);
    const onPath = path.join(env.PATH as string, 'temporal');
    writeFileSync(onPath, '#!/bin/sh\n');
    chmodSync(onPath, 0o755);
    const fail = () => {
      throw new Error('nothing should be built');
    };
    expect(await ensureTemporalCli({ env, say: fail })).toEqual({ path: onPath, source: 'PATH' });
    expect(await ensureTemporalCli({ env: { ...env, TEMPORAL_CLI_PATH: onPath }, say: fail })).toEqual({
      path: onPath,
      source: 'TEMPORAL_CLI_PATH',
    });
  });
});
