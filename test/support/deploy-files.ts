// The deploy/ files as tests read them: the alert rules and the dashboard's PromQL, the metric names
// those use, and a tool (promtool, systemd-analyze) that must exist under CI=true.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/config';

export const DEPLOY_DIR = path.join(PROJECT_ROOT, 'deploy');
export const ALERTS_FILE = path.join(DEPLOY_DIR, 'prometheus', 'alerts.yml');
/** promtool's unit tests of the alerts. */
export const ALERTS_TEST_FILE = path.join(DEPLOY_DIR, 'prometheus', 'alerts.test.yml');
export const DASHBOARD_FILE = path.join(DEPLOY_DIR, 'grafana', 'waba-runbooks.json');

/** Made by Prometheus itself, never on the worker's /metrics. */
export const PROMETHEUS_MADE = new Set(['up']);

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { uid?: string } }[];
}

export interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard: the panels' targets and the variables' selectors. */
export function dashboardExpressions(d: Dashboard = dashboard()): { where: string; expr: string }[] {
  const fromPanels = d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel ${p.id} (${p.title}) ${t.refId}`, expr: t.expr })),
  );
  // label_values(SELECTOR, label): the selector is PromQL.
  const fromVariables = d.templating.list.flatMap((v) => {
    const m = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? '');
    return m?.[1] ? [{ where: `variable ${v.name}`, expr: m[1] }] : [];
  });
  return [...fromPanels, ...fromVariables];
}

/** `expr` with Grafana's variables replaced by values Prometheus accepts, for promtool. */
export function withGrafanaValues(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(\w+)\}?/g, '.*');
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATORS = new Set(['and', 'or', 'unless', 'offset', 'bool']);

/**
 * The metric names a PromQL expression reads: identifiers that are not functions (followed by
 * `(`), operators, grouping clauses, label matchers or ranges.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\boffset\s+\S+/g, '');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (!name || call || NOT_METRICS.has(name) || OPERATORS.has(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** Whether `tool` runs; under CI=true a missing tool is an error, elsewhere a loud notice. */
export function toolAvailable(tool: string, versionArgs: string[], install: string): boolean {
  const ran = spawnSync(tool, versionArgs, { encoding: 'utf8' });
  if (ran.status === 0) return true;
  const reason = `${tool} is not installed (${install})`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPED: ${reason}\n${'!'.repeat(78)}\n`);
  return false;
}
