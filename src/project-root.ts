// The project's root directory, the same whether this code runs from source (src/project-root.ts,
// through tsx or vitest) or from the compiled build (dist/src/project-root.js, `npm run build`).
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The nearest directory holding package.json at or above `dir`'s parent: `src/..` or `dist/src/../..`. */
function projectRootFrom(dir: string): string {
  const parent = path.resolve(dir, '..');
  for (let d = parent; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return parent;
  }
}

export const PROJECT_ROOT = projectRootFrom(__dirname);
