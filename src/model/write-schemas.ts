// `npm run schemas`: write every JSON Schema into examples/schemas/ (editors validate the examples
// and inventories through them). test/unit/json-schema.test.ts fails when one is out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';
import { jsonSchemaOf, SCHEMA_NAMES, schemaFileName } from './json-schema';

export const SCHEMAS_DIR = path.join(PROJECT_ROOT, 'examples', 'schemas');

/** The text of a schema file: stable, indented, with a final newline. */
export const schemaText = (name: (typeof SCHEMA_NAMES)[number]) =>
  `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`;

if (require.main === module) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const name of SCHEMA_NAMES)
    writeFileSync(path.join(SCHEMAS_DIR, schemaFileName(name)), schemaText(name));
  console.log(`wrote ${SCHEMA_NAMES.length} schemas to ${SCHEMAS_DIR}`);
}
