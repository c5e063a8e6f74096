// JSON Schemas of every runbook input and of the inventory, generated from the zod schemas (one
// source of truth): `waba-runbooks schema <name>` prints one; examples/schemas/ holds them for
// editors (each example's "$schema" points there). Checks a JSON Schema cannot say (bounds that
// depend on the cluster, on now) stay with zod.
import { z } from 'zod';
import { RUNBOOK_INPUTS } from './inputs';
import { InventoryFile } from './inventory';
import { RUNBOOK_NAMES, type RunbookName } from './runbooks';

export const SCHEMA_NAMES = [...RUNBOOK_NAMES, 'inventory'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** The file name of a schema in examples/schemas/, e.g. `upgrade.schema.json`. */
export const schemaFileName = (name: SchemaName) => `${name}.schema.json`;

export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const schema = name === 'inventory' ? InventoryFile : RUNBOOK_INPUTS[name as RunbookName].schema;
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return {
    ...generated,
    $id: schemaFileName(name),
    title: name === 'inventory' ? 'waba-runbooks inventory' : `waba-runbooks ${name} input`,
    description:
      name === 'inventory'
        ? "The clusters a waba-runbooks worker may touch and their approval policies (the worker's own configuration)."
        : `What a ${name} run is asked to do: the cluster's name in the worker inventory and the options of the run.`,
  };
}
