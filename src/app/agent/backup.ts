import type { LoadedConfig } from '../../adapters/config-file.js';
import { newestVerified } from '../../domain/backup/catalog.js';
import type { BackupFreshness } from '../../domain/maintenance/prechecks.js';
import { errorMessage } from '../../errors.js';

/**
 * The newest verified etcd backup in the primary destination, read through the backup store and its manifests (the
 * `verified` record the restore drill writes). Never throws: a store that cannot be read is an answer too.
 */
export async function readBackupFreshness(loaded: LoadedConfig | undefined): Promise<BackupFreshness> {
  try {
    const { openDestination } = await import('../../adapters/snapshot/setup.js');
    const { readCatalog } = await import('../../adapters/snapshot/catalog.js');
    const store = await openDestination(undefined, loaded);
    const newest = newestVerified(await readCatalog(store));
    return { location: store.location, ...(newest ? { newestVerifiedAt: newest.createdAt } : {}) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
