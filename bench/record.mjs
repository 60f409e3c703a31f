// Shared by the bench scripts: replace one `## NAME` section of docs/BENCHMARKS.md, keeping every other section.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `section` (which starts with its own `## name` heading) in place of the old one, or appends it. */
export function recordSection(root, name, section) {
  const file = join(root, 'docs/BENCHMARKS.md');
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const heading = new RegExp(`^## ${name}\\s*$`, 'm');
  const start = doc.search(heading);
  let updated;
  if (start < 0) updated = `${doc.trimEnd()}\n\n${section.trim()}\n`;
  else {
    const rest = doc.slice(start + 1);
    const next = rest.search(/^## /m);
    const after = next >= 0 ? `\n${rest.slice(next)}` : '';
    updated = `${doc.slice(0, start)}${section.trim()}\n${after}`;
  }
  writeFileSync(file, updated.replace(/\n{3,}/g, '\n\n'));
  return file;
}
