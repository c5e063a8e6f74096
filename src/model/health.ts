import { z } from 'zod';

/** One node's entry in GET /v1/health (reference §3.3): a status, or errors when it cannot answer yet. */
const NodeError = z.object({ code: z.number(), title: z.string(), details: z.string().optional() });
const NodeHealth = z.object({
  gateway_status: z.string().optional(),
  role: z.string().optional(),
  errors: z.array(NodeError).optional(),
});

/** The `health` object: either single-instance `{gateway_status}` or keyed `host:containerId`. */
export const HealthBody = z.object({ health: z.record(z.string(), z.unknown()) });
export type HealthBody = z.infer<typeof HealthBody>;

export interface NodeRow {
  /** The host part of the `<hostname>:<container id>` key. */
  host: string;
  containerId: string | null;
  role: string | null;
  gatewayStatus: string | null;
  errorCode: number | null;
  errorTitle: string | null;
}

export type Verdict = 'unregistered' | 'ha-connected' | `multiconnect-connected:${number}` | 'degraded';

export interface HealthSummary {
  verdict: Verdict;
  reasons: string[];
  nodes: NodeRow[];
  connectedCoreapps: number;
}

const HEALTHY_IDLE = new Set(['connected', 'disconnected']);

function toRow(key: string, value: unknown): NodeRow {
  const parsed = NodeHealth.safeParse(value);
  const colon = key.lastIndexOf(':');
  const row: NodeRow = {
    host: colon > 0 ? key.slice(0, colon) : key,
    containerId: colon > 0 ? key.slice(colon + 1) : null,
    role: null,
    gatewayStatus: null,
    errorCode: null,
    errorTitle: null,
  };
  if (!parsed.success) {
    return { ...row, errorTitle: 'unreadable health entry' };
  }
  const firstError = parsed.data.errors?.[0];
  return {
    ...row,
    role: parsed.data.role ?? null,
    gatewayStatus: parsed.data.gateway_status ?? null,
    errorCode: firstError?.code ?? null,
    errorTitle: firstError?.title ?? null,
  };
}

/** Turn the raw `health` object into one row per node, keeping the API's own key order. */
export function healthRows(body: HealthBody): NodeRow[] {
  const health = body.health;
  if (typeof health.gateway_status === 'string') {
    // Single-instance shape: the one node is both master and coreapp.
    return [toRow('single-instance', { gateway_status: health.gateway_status, role: 'coreapp' })];
  }
  return Object.entries(health).map(([key, value]) => toRow(key, value));
}

function describe(row: NodeRow): string {
  const id = row.containerId ? `${row.host}:${row.containerId}` : row.host;
  if (row.errorCode !== null || row.errorTitle !== null) {
    return `${id} reports error ${row.errorCode ?? '?'} ${row.errorTitle ?? ''}`.trim();
  }
  return `${id} (${row.role ?? 'unknown role'}) is ${row.gatewayStatus ?? 'without status'}`;
}

/**
 * The cluster's verdict from its nodes (reference §3.3, §5):
 * - `unregistered`: a node (the primary master) says the client needs registration (seed step A7);
 * - `ha-connected`: exactly one Coreapp connected and every other node healthy (A9);
 * - `multiconnect-connected:<n>`: n > 1 Coreapps connected and every other node healthy (B2, B4);
 * - `degraded`: anything else, with one reason per unhealthy node.
 * The primary master may report `connected` in Multiconnect (docs disagree), so only Coreapps are counted.
 */
export function summarizeHealth(body: HealthBody): HealthSummary {
  const nodes = healthRows(body);
  const connectedCoreapps = nodes.filter(
    (n) => n.role === 'coreapp' && n.gatewayStatus === 'connected',
  ).length;
  if (nodes.some((n) => n.gatewayStatus === 'unregistered')) {
    return { verdict: 'unregistered', reasons: [], nodes, connectedCoreapps };
  }
  const reasons = nodes
    .filter((n) => n.errorCode !== null || n.errorTitle !== null || !HEALTHY_IDLE.has(n.gatewayStatus ?? ''))
    .map(describe);
  if (nodes.length === 0) reasons.push('the health response lists no node');
  else if (connectedCoreapps === 0) reasons.push('no Coreapp is connected');
  if (reasons.length > 0) return { verdict: 'degraded', reasons, nodes, connectedCoreapps };
  const verdict: Verdict =
    connectedCoreapps === 1 ? 'ha-connected' : `multiconnect-connected:${connectedCoreapps}`;
  return { verdict, reasons, nodes, connectedCoreapps };
}
