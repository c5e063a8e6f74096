// Where an audit's inputs come from: the run's history (from the server, or a file as
// `temporal workflow show --output json` writes it), its payloads decoded (through the payload codec
// when they are encrypted), and the cluster's policy from the worker's inventory.

import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { InputError } from '../client/errors';
import { codecFromEnv } from '../codec/keys';
import type { Env } from '../config/env';
import { loadInventory } from '../inventory/load';
import { inventorySource } from '../inventory/source';
import { canonicalJson } from '../model/canonical';
import { sha256Hex } from '../model/decisions';
import { policyFor } from '../model/policy';
import { isGated, isRunbook } from '../model/runbooks';
import { type AuditReport, auditRun, decodeHistory, type PayloadDecoder } from './audit';

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

function payloadDecoder(env: Env | undefined): PayloadDecoder {
  const codec = codecFromEnv(env);
  const decode: PayloadDecoder = async (payload) => {
    const encoding = text(payload.metadata?.encoding);
    if (encoding === 'binary/null') return undefined;
    if (encoding === 'json/plain') return JSON.parse(text(payload.data));
    if (encoding === 'binary/encrypted') {
      if (!codec)
        throw new InputError('the history is encrypted: set WABA_CODEC_KEYS (or _FILE) to audit it');
      const [plain] = await codec.decode([payload as never]);
      return decode(plain as never);
    }
    throw new InputError(
      `a payload of the history has the encoding "${encoding.slice(0, 40)}", which an audit cannot read`,
    );
  };
  return decode;
}

export interface AuditOptions {
  workflowId: string;
  /** Read the history from this file instead of the server. */
  historyFile?: string;
  /** The run to audit; default: the workflow's latest (server) or the file's. */
  runId?: string;
  /** The inventory to take the keys from; default: the one the worker would read. */
  inventory?: string;
  client?: Client;
  env?: Env;
}

export async function auditWorkflow(o: AuditOptions): Promise<AuditReport> {
  const env = o.env;
  let history: Parameters<typeof decodeHistory>[0];
  if (o.historyFile) {
    try {
      history = historyFromJSON(JSON.parse(readFileSync(o.historyFile, 'utf8')));
    } catch (err) {
      throw new InputError(`cannot read ${o.historyFile} as a history (JSON): ${(err as Error).message}`);
    }
  } else {
    if (!o.client) throw new Error('auditWorkflow: a client or a history file');
    history = await o.client.workflow.getHandle(o.workflowId, o.runId).fetchHistory();
  }
  const { events, runId } = await decodeHistory(history, payloadDecoder(env));
  const started = events.find((e) => e.kind === 'started');
  const runbook = started?.name ?? '';
  if (!isRunbook(runbook) || !isGated(runbook))
    throw new InputError(
      `${o.workflowId} is a ${runbook || 'unknown'} run: only runbooks with gates have decisions to audit`,
    );
  const cluster = String((started?.value as { cluster?: unknown } | undefined)?.cluster ?? '');
  const source = o.inventory ?? inventorySource(env).path;
  if (!source)
    throw new InputError('no inventory to take the keys from: give --inventory FILE or set WABA_INVENTORY');
  const entry = loadInventory(source).clusters.get(cluster);
  if (!entry?.entry.approvals)
    throw new InputError(`cluster ${cluster.slice(0, 64)} has no approval policy in the inventory ${source}`);
  const policy = policyFor(entry.entry.approvals, runbook);
  return auditRun({
    workflowId: o.workflowId,
    runId: o.runId ?? runId,
    events,
    policy,
    policyHash: sha256Hex(canonicalJson(policy)),
  });
}
