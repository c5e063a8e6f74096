// The worker image for tests: built by scripts/build-worker-image under a throwaway tag, run with
// the host's network (it reaches the suite's dev server and local or lab servers directly), removed
// afterwards with the tag (the base image and the build cache stay). Needs root, Linux and Debian's
// docker.io: missing, a test skips loudly, or fails under CI=true.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/config';

const script = (name: string) => path.join(PROJECT_ROOT, 'scripts', name);

/** Why the image cannot be built here, or undefined; throws under CI=true. */
export function imageUnavailable(): string | undefined {
  let reason: string | undefined;
  if (process.platform !== 'linux') reason = 'not Linux';
  else if (process.getuid?.() !== 0) reason = 'not root';
  else {
    const missing = ['docker', 'dockerd'].find(
      (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
    );
    if (missing) reason = `no ${missing} (apt-get install docker.io)`;
  }
  if (!reason) return undefined;
  if (process.env.CI === 'true')
    throw new Error(`CI=true but the worker image cannot be built here: ${reason}`);
  console.warn(`\n${'!'.repeat(78)}\n!! WORKER IMAGE TEST SKIPPED: ${reason}\n${'!'.repeat(78)}\n`);
  return reason;
}

/** A directory the image's user (uid 1000) can read, holding `files` (name to content). */
export function readableDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waba-image-'));
  chmodSync(dir, 0o755);
  for (const [name, content] of Object.entries(files))
    writeFileSync(path.join(dir, name), content, { mode: 0o644 });
  return dir;
}

export interface RunOptions {
  /** WABA_* and TEMPORAL_* settings, as `-e NAME=value`. */
  env: Record<string, string>;
  /** Settings passed by name only (secrets: not on the command line). */
  secretEnv?: Record<string, string>;
  /** Read-only mounts: host directory to container path. */
  mounts: Record<string, string>;
}

export class WorkerImage {
  private readonly containers: string[] = [];

  private constructor(
    readonly tag: string,
    private readonly dockerHost: string,
    private readonly daemonWasRunning: boolean,
  ) {}

  /** Build the image (scripts/build-worker-image) on the daemon scripts/worker-image-docker gives. */
  static async build(): Promise<WorkerImage> {
    const daemonWasRunning = spawnSync(script('worker-image-docker'), ['status']).status === 0;
    const dockerHost = execFileSync(script('worker-image-docker'), ['start'], { encoding: 'utf8' }).trim();
    const tag = `waba-runbooks-worker:test-${randomUUID().slice(0, 8)}`;
    const image = new WorkerImage(tag, dockerHost, daemonWasRunning);
    const started = Date.now();
    // Asynchronously: a build takes minutes cold, and the test process must keep answering vitest.
    await promisify(execFile)(script('build-worker-image'), [tag], {
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`image build failed (${err.code}):\n${`${err.stdout}${err.stderr}`.slice(-3000)}`);
    });
    console.log(`worker image ${tag} built in ${Math.round((Date.now() - started) / 1000)} s`);
    return image;
  }

  docker(args: string[], env: NodeJS.ProcessEnv = {}): string {
    return execFileSync('docker', args, {
      encoding: 'utf8',
      env: { ...process.env, ...env, DOCKER_HOST: this.dockerHost },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  }

  /** The container's output so far (never throws: for error messages). */
  logs(container: string): string {
    const r = spawnSync('docker', ['logs', container], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
    });
    return `${r.stdout}${r.stderr}`;
  }

  /** Start a container of the image on the host's network; returns its name. */
  run(opts: RunOptions): string {
    const name = `waba-worker-test-${randomUUID().slice(0, 8)}`;
    this.containers.push(name);
    const env = Object.entries(opts.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const secrets = Object.keys(opts.secretEnv ?? {}).flatMap((k) => ['-e', k]);
    const mounts = Object.entries(opts.mounts).flatMap(([from, to]) => ['-v', `${from}:${to}:ro`]);
    this.docker(
      ['run', '-d', '--name', name, '--network', 'host', ...env, ...secrets, ...mounts, this.tag],
      opts.secretEnv,
    );
    return name;
  }

  /** Wait until Docker reports the container healthy (its own HEALTHCHECK); throws if it stops. */
  async waitHealthy(container: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.docker([
        'inspect',
        '-f',
        '{{.State.Status}} {{.State.Health.Status}}',
        container,
      ]).trim();
      if (state === 'running healthy') return;
      if (!state.startsWith('running'))
        throw new Error(`the container stopped (${state}):\n${this.logs(container)}`);
      if (Date.now() > deadline)
        throw new Error(`not healthy in ${timeoutMs / 1000} s (${state}):\n${this.logs(container)}`);
      await sleep(1_000);
    }
  }

  /** Remove the containers (and their anonymous volumes) and the tag; stop the daemon if this started it. */
  remove(): void {
    const env = { ...process.env, DOCKER_HOST: this.dockerHost };
    for (const c of this.containers) spawnSync('docker', ['rm', '-f', '-v', c], { env });
    spawnSync('docker', ['rmi', this.tag], { env });
    if (!this.daemonWasRunning) spawnSync(script('worker-image-docker'), ['stop']);
  }
}
