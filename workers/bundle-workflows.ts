// `npm run bundle [file]`: the workflows and their interceptors bundled ahead (the SDK's
// bundleWorkflowCode, as the worker would at every start), written to `file` (default
// dist/workflow-bundle.js). A worker given WABA_WORKFLOW_BUNDLE=<file> loads it instead of bundling.
// Runs from source (tsx) or from the build (node dist/workers/bundle-workflows.js).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/config';
import { WORKFLOW_INTERCEPTOR_MODULES } from './worker';

/** Bundle the worker's workflows (with WORKFLOW_INTERCEPTOR_MODULES) into `file`. */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
}

if (require.main === module) {
  const file = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js'));
  writeWorkflowBundle(file).then(
    () => console.log(`workflow bundle: ${file}`),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
