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
// The slowest files, to keep the run well inside CI's time.
const slowest = (report.testResults ?? [])
  .map((r) => ({ name: r.name.replace(`${process.cwd()}/`, ''), s: (r.endTime - r.startTime) / 1000 }))
  .sort((a, b) => b.s - a.s)
  .slice(0, 12);
for (const f of slowest) console.log(`slow: ${f.s.toFixed(0).padStart(5)} s  ${f.name}`);
const failed = report.numFailedTests + failedSuites.length;
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${skipped} skipped (recorders and benchmarks that run only on request)`);
console.log(`${report.numPassedTests} passed, ${failed} failed`);
