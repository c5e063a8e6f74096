// Prints vitest's JSON report; its last line is the one CI reads: "N passed, N failed".
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
// A file that failed outside any test (a hook, an import) has no failed assertion: count it too.
const failedSuites = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
);
for (const suite of failedSuites)
  console.log(`file failed outside its tests: ${suite.name}: ${(suite.message ?? '').slice(0, 300)}`);
const failed = report.numFailedTests + failedSuites.length;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${skipped} skipped (recorders and benchmarks that run only on request)`);
console.log(`${report.numPassedTests} passed, ${failed} failed`);
