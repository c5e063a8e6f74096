// Commands that need no server: `schema` and `inventory check`.
import { InputError } from '../../client/errors';
import { checkInventory, reportText } from '../../inventory/check';
import { InventoryError } from '../../inventory/load';
import { jsonSchemaOf, SCHEMA_NAMES, type SchemaName } from '../../model/json-schema';
import { emit } from '../output';
import type { Session } from '../session';

export function schema(_s: Session, name: string): void {
  if (!(SCHEMA_NAMES as readonly string[]).includes(name))
    throw new InputError(`schema of what? one of: ${SCHEMA_NAMES.join(', ')}`);
  // A JSON Schema is JSON whatever the output format.
  emit('json', jsonSchemaOf(name as SchemaName), () => '');
}

export function inventoryCheck(s: Session, file: string | undefined): void {
  try {
    const report = checkInventory(file);
    emit(s.format, report, () => reportText(report));
  } catch (err) {
    if (err instanceof InventoryError) throw new InputError(err.message);
    throw err;
  }
}
