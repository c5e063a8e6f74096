// deploy/prometheus/alerts.yml and deploy/grafana/waba-runbooks.json: the rules and every PromQL
// expression of the dashboard pass `promtool check rules` (Debian's prometheus package), the alerts
// fire as deploy/prometheus/alerts.test.yml says (`promtool test rules`), and the
// dashboard is well formed (ids, datasources, targets, layout, variables). That every metric they
// use is really exported: test/e2e/deploy-metrics.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  ALERTS_FILE,
  ALERTS_TEST_FILE,
  alertRules,
  dashboard,
  dashboardExpressions,
  metricNames,
  toolAvailable,
  withGrafanaValues,
} from '../support/deploy-files';

/** Grafana's reference to the dashboard's datasource variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DATASOURCE = '${datasource}';
const hasPromtool = toolAvailable('promtool', ['--version'], 'apt-get install prometheus');
const tmp = mkdtempSync(path.join(tmpdir(), 'waba-promtool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function checkRules(file: string): { ok: boolean; output: string } {
  const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 30_000 });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** `exprs` as recording rules in a file promtool can check. */
function recordingRules(exprs: string[]): string {
  const file = path.join(tmp, `rules-${Math.random().toString(36).slice(2)}.yml`);
  const rules = exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr }));
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
  return file;
}

describe.skipIf(!hasPromtool)('promtool check rules', () => {
  it('accepts the alert rules, all of them', () => {
    const { ok, output } = checkRules(ALERTS_FILE);
    expect(output).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(ok).toBe(true);
  });

  it('fires each alert when it should and not before (promtool test rules alerts.test.yml)', () => {
    const run = spawnSync('promtool', ['test', 'rules', ALERTS_TEST_FILE], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
    expect(run.status).toBe(0);
    // Every alert has a case.
    const tested = readFileSync(ALERTS_TEST_FILE, 'utf8');
    for (const r of alertRules()) expect(tested, r.alert).toContain(`alertname: ${r.alert}`);
  });

  it('accepts every PromQL expression of the dashboard (Grafana variables filled in)', () => {
    const exprs = dashboardExpressions().map((e) => withGrafanaValues(e.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const { ok, output } = checkRules(recordingRules(exprs));
    expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(ok).toBe(true);
  });

  it('refuses a broken expression (the check can fail)', () => {
    const { ok, output } = checkRules(recordingRules(['sum by (runbook (waba_runs_started_total)']));
    expect(ok).toBe(false);
    expect(output).toMatch(/parse error/i);
  });
});

describe('the alert rules', () => {
  it('each waits (for:), has a severity, a summary and a description', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert)).toEqual([
      'WabaRunFailed',
      'WabaGateWaitingTooLong',
      'WabaWorkerDown',
      'WabaWorkerNotPolling',
      'WabaActivityScheduleToStartHigh',
      'WabaWorkflowTaskScheduleToStartHigh',
    ]);
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
  });

  it('counts failed runs, not cancelled ones', () => {
    const failed = alertRules().find((r) => r.alert === 'WabaRunFailed');
    const selectors = failed?.expr.match(/waba_runs_failed_total\{[^}]*\}/g) ?? [];
    expect(selectors.length).toBeGreaterThan(0);
    for (const s of selectors) expect(s).toContain('cancelled="false"');
  });
});

describe('metricNames', () => {
  it('finds the metrics of an expression, not its functions, labels, ranges or keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.9, sum by (le, task_queue) (rate(temporal_x_bucket{a="b(c)"}[5m]))) / 1000',
      ),
    ).toEqual(['temporal_x_bucket']);
    expect(metricNames('time() - (waba_g > 0) > 4 * 3600 or up{job="w"} == 0')).toEqual(['up', 'waba_g']);
    expect(metricNames('a unless a offset 15m or absent(b{c="d"})')).toEqual(['a', 'b']);
  });
});

describe('the Grafana dashboard', () => {
  const d = dashboard();
  const panels = d.panels.filter((p) => p.type !== 'row');

  it('is a current schema with unique panel ids', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('waba-runbooks');
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(panels.length).toBeGreaterThanOrEqual(10);
  });

  it('gives every panel the Prometheus datasource variable and queries with unique refIds', () => {
    for (const p of panels) {
      const name = `panel ${p.id} (${p.title})`;
      expect(p.datasource, name).toEqual({ type: 'prometheus', uid: DATASOURCE });
      expect(p.targets?.length, name).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, name).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect(t.expr.trim(), name).not.toBe('');
        expect(t.datasource?.uid, name).toBe(DATASOURCE);
      }
    }
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    const cells = new Map<string, number>();
    for (const p of d.panels) {
      const g = p.gridPos;
      expect(g, `panel ${p.id}`).toBeDefined();
      if (!g) continue;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `panel ${p.id}`).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const other = cells.get(`${x},${y}`);
          expect(other, `panels ${other} and ${p.id} overlap at ${x},${y}`).toBeUndefined();
          cells.set(`${x},${y}`, p.id);
        }
    }
  });

  it('defines every variable it uses: the datasource, cluster and runbook', () => {
    const vars = d.templating.list;
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'cluster', 'runbook']);
    expect(vars[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const defined = new Set(vars.map((v) => v.name));
    const text = JSON.stringify(d);
    const used = [...text.matchAll(/\$\{?(\w+)\}?/g)].map((m) => m[1] as string);
    for (const name of used.filter((n) => !n.startsWith('__'))) expect(defined, name).toContain(name);
    // Every panel query is filtered by the variables where its metric carries the label.
    for (const e of dashboardExpressions(d).filter((x) => /waba_runs_/.test(x.expr)))
      if (e.where.startsWith('panel')) expect(e.expr, e.where).toContain('cluster=~"$cluster"');
  });
});
