// Prints vitest's JSON report as one line CI reads: "N passed, N failed, N skipped".
const { readFileSync } = require('node:fs');

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`no vitest report at ${file} (${err.code ?? err.message})`);
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const failedSuites = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && r.assertionResults?.length === 0,
);
for (const suite of failedSuites) console.log(`suite failed to run: ${suite.name}: ${suite.message ?? ''}`);
const failed = report.numFailedTests + failedSuites.length;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
