// What an inventory names that the worker cannot use right now: a secret reference that does not
// resolve, a compose file or CA file that is missing or changed. Warnings, not errors: the file may
// be valid and the worker's disk not ready yet; the run that needs the thing fails naming it. And
// where a cluster falls short of the seed's sizing guidance (the topology lint).

import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { type Env, processEnv } from '../config/env';
import { approvableStarts } from '../model/approval-reach';
import { normalIdentity } from '../model/decisions';
import { policyFor } from '../model/policy';
import type { RunbookName } from '../model/runbooks';
import { lintCluster } from '../model/topology';
import { type Inventory, type InventoryEntry, sha256Hex } from './load';

/** Every secret reference of a cluster, by the field that holds it. */
function secretRefsOf(entry: InventoryEntry): [string, string][] {
  const c = entry.cluster;
  const refs: [string, string | undefined][] = [
    ['api.passwordRef', c.api.passwordRef],
    ['db.passwordRef', c.db?.passwordRef],
    ['ssh.privateKeyRef', c.ssh?.privateKeyRef],
    ['registration.certRef', c.registration?.certRef],
    ['registration.pinRef', c.registration?.pinRef],
    ['backup.passwordRef', c.backup?.passwordRef],
  ];
  return refs.filter((r): r is [string, string] => r[1] !== undefined);
}

function refProblem(ref: string, env: Env): string | undefined {
  if (ref.startsWith('env:'))
    return env[ref.slice(4)] ? undefined : `environment variable ${ref.slice(4)} is not set`;
  const file = ref.slice(5);
  try {
    accessSync(file, constants.R_OK);
    if (!statSync(file).isFile()) return `${file} is not a file`;
    return undefined;
  } catch (err) {
    return `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

function fileProblem(file: string, sha256?: string): string | undefined {
  try {
    const text = readFileSync(file);
    if (sha256 && sha256Hex(text.toString('utf8')) !== sha256)
      return `${file} does not have the sha256 given`;
    return undefined;
  } catch (err) {
    return `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/**
 * A policy the loader accepted (some signed start can pass its gates) where an unsigned start never
 * can: the Web UI's form would fail at run start, so say so, for the cluster and each override.
 */
function unsignedStartWarnings(entry: InventoryEntry, at: string): string[] {
  const spec = entry.entry.approvals;
  if (!spec) return [];
  const requesters = spec.requesters.map((r) => r.name);
  const overridden = Object.entries(spec.runbooks).flatMap(([r, o]) =>
    o && (o.approvers || o.minApprovals !== undefined || o.allowSelfApproval !== undefined)
      ? [[`${at}.runbooks.${r}`, policyFor(spec, r as RunbookName)] as const]
      : [],
  );
  const policies = [[at, { ...spec, approvers: spec.approvers.map((a) => a.name) }] as const, ...overridden];
  return policies.flatMap(([where, p]) =>
    approvableStarts({ ...p, requesters }).unsigned
      ? []
      : [
          `${where}: with self-approval off, a run started unsigned needs ${p.minApprovals + 1} approvers (TRUST.md rule 7); only ${new Set(p.approvers.map(normalIdentity)).size} listed: start it signed (waba-runbooks start)`,
        ],
  );
}

export function inventoryWarnings(inventory: Inventory, env: Env = processEnv()): string[] {
  const out: string[] = [];
  for (const [name, e] of inventory.clusters) {
    const at = (field: string) => `clusters.${name}.${field}`;
    for (const [field, ref] of secretRefsOf(e)) {
      const p = refProblem(ref, env);
      if (p) out.push(`${at(field)}: ${p}`);
    }
    const c = e.cluster;
    if (c.compose) {
      const p = fileProblem(c.compose.file, c.compose.sha256);
      if (p) out.push(`${at('compose.file')}: ${p}`);
      if (c.compose.dbUpgradeFile) {
        const q = fileProblem(c.compose.dbUpgradeFile, c.compose.dbUpgradeSha256);
        if (q) out.push(`${at('compose.dbUpgradeFile')}: ${q}`);
      }
    }
    if (c.api.tls.caFile) {
      const p = fileProblem(c.api.tls.caFile);
      if (p) out.push(`${at('api.tls.caFile')}: ${p}`);
    }
    out.push(...unsignedStartWarnings(e, at('approvals')));
    out.push(...lintCluster(c).warnings);
  }
  return out;
}
