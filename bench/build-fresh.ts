// Whether the compiled build (dist/) is complete and newer than every source: the same check as
// bin/waba-runbooks makes before running it (keep the two alike).
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../src/project-root';

export function buildIsFresh(root: string = PROJECT_ROOT): boolean {
  try {
    const newer = execFileSync(
      'find',
      [
        ...['src', 'workflows', 'activities', 'workers', 'tsconfig.json', 'tsconfig.build.json'],
        ...['-newer', 'dist/.stamp', '(', '-name', '*.ts', '-o', '-name', '*.json', '-o', '-type', 'd', ')'],
        ...['-print', '-quit'],
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return newer.trim() === '';
  } catch {
    return false; // no dist/.stamp (no build, or one unfinished)
  }
}
