import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path `command` would run from (searching PATH like a shell), or undefined. Checked before spawning: a missing
 * binary otherwise surfaces as an asynchronous spawn 'error' event instead of a message the user can act on.
 */
export function which(command: string, path = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
