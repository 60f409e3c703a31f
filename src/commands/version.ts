import type { Command } from 'commander';
import { buildInfo, VERSION } from '../version.js';
import { action } from './context.js';

/** What a bug report needs: which Lifeboat, built from which commit, on which Node and platform. */
export interface VersionReport {
  version: string;
  commit: string | null;
  dirty: boolean;
  node: string;
  platform: string;
  arch: string;
}

export function versionReport(): VersionReport {
  const build = buildInfo();
  return {
    version: VERSION,
    commit: build.commit ?? null,
    dirty: build.dirty ?? false,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('the version, the commit it was built from, and the Node.js and platform it runs on')
    .addHelpText(
      'after',
      `
Examples:
  lifeboat version
  lifeboat version --json          {"version": "...", "commit": "...", "node": "v20...", ...}

(\`lifeboat -V\` prints the version number alone.)`,
    )
    .action(
      action(async (ctx) => {
        const r = versionReport();
        if (ctx.out.json) ctx.out.printJson(r);
        else {
          const commit = r.commit
            ? `${r.commit.slice(0, 12)}${r.dirty ? ' (with uncommitted changes)' : ''}`
            : 'unknown';
          ctx.out.print(
            [
              `lifeboat ${r.version}`,
              `commit    ${commit}`,
              `node      ${r.node}`,
              `platform  ${r.platform}-${r.arch}`,
            ].join('\n'),
          );
        }
        return 0;
      }),
    );
}
