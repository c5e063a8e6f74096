import { log, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { inventoryOf, type Resolution } from '../../src/model/inventory';
import { type RunStatus, statusQuery, WabaCluster, WabaRunbook, WabaStep } from '../api';
import { failureText } from './failure-text';
import { setRunContext } from './run-context';

/**
 * What a run is doing, kept in three places an operator looks: the `status` query, the `WabaStep`
 * search attribute (Web UI list) and the current details (Web UI run page).
 */
export class Progress {
  private readonly state: RunStatus;
  private publishedStep: string | undefined;
  private extra: () => Record<string, unknown> = () => ({});

  /** `summary`: the run's one-line summary (runSummary), the details' headline. */
  constructor(
    runbook: string,
    cluster: string,
    private readonly summary?: string,
  ) {
    this.state = {
      runbook,
      cluster,
      stage: 'validate',
      stagesDone: [],
      hosts: {},
      lastError: null,
      updatedAt: new Date().toISOString(),
    };
    setHandler(statusQuery, () => ({ ...this.state, ...this.extra() }));
    upsertSearchAttributes([
      { key: WabaCluster, value: cluster },
      { key: WabaRunbook, value: runbook },
    ]);
    this.publish();
  }

  /** Add runbook-specific parts (gates, decisions) to every `status` answer. */
  attach(extra: () => Record<string, unknown>): void {
    this.extra = extra;
  }

  stage(name: string): void {
    if (this.state.stage !== name) this.state.stagesDone.push(this.state.stage);
    this.state.stage = name;
    this.publish();
  }

  /** The cluster was resolved: `status` and the details show where and which spec. */
  resolved(resolution: Resolution): void {
    this.state.inventory = inventoryOf(resolution);
    this.publish();
  }

  /** Warnings for `status` and the details (not a stage: the search attributes do not change). */
  warn(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.state.warnings = [...(this.state.warnings ?? []), ...lines];
    for (const line of lines) log.warn(`${this.state.runbook} on ${this.state.cluster}: ${line}`);
    this.publish();
  }

  host(name: string, what: string): void {
    this.state.hosts[name] = what;
    this.publish();
  }

  failed(error: unknown): void {
    this.state.lastError = failureText(error);
    log.warn(
      `${this.state.runbook} on ${this.state.cluster} failed at ${this.state.stage}: ${this.state.lastError}`,
    );
    this.publish();
  }

  private publish(): void {
    this.state.updatedAt = new Date().toISOString();
    if (this.publishedStep !== this.state.stage) {
      upsertSearchAttributes([{ key: WabaStep, value: this.state.stage }]);
      this.publishedStep = this.state.stage;
      setRunContext({ cluster: this.state.cluster, step: this.state.stage });
      log.info(`${this.state.runbook} on ${this.state.cluster}: ${this.state.stage}`);
    }
    setCurrentDetails(renderDetails(this.state, this.summary));
  }
}

/** Markdown for the Web UI's "current details": the stage and a table of hosts. */
export function renderDetails(s: RunStatus, summary?: string): string {
  // Runs started from the Web UI have no static summary: the headline says what the run is about.
  const lines = [`${summary ? `**${summary}**` : `**${s.runbook}** on **${s.cluster}**`}: ${s.stage}`];
  const hosts = Object.entries(s.hosts);
  if (hosts.length > 0) {
    lines.push('', '| host | progress |', '| --- | --- |', ...hosts.map(([h, p]) => `| ${h} | ${p} |`));
  }
  if (s.inventory) lines.push('', `inventory spec sha256 ${s.inventory.specHash.slice(0, 16)}…`);
  if (s.warnings?.length) lines.push('', ...s.warnings.map((w) => `warning: ${w}`));
  if (s.lastError) lines.push('', `last error: ${s.lastError}`);
  return lines.join('\n');
}
