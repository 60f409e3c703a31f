import { describe, expect, it } from 'vitest';
import { snapshotFit } from '../../../src/domain/recover/snapshot-fit.js';

const snap = { revision: 100, clusterId: '1234', clusterName: 'home' };

describe("snapshotFit: a snapshot is proved to be this cluster's before anything stops", () => {
  it('same cluster id: fits; the revisions lost are named', () => {
    expect(snapshotFit(snap, { clusterIds: ['1234'], revision: 100 }, false)).toEqual({ warnings: [] });
    expect(snapshotFit(snap, { clusterIds: ['1234'], revision: 130 }, false).warnings).toEqual([
      "members answer at revision 130: the 30 revisions after the snapshot's 100 are lost",
    ]);
    expect(snapshotFit(snap, { clusterIds: ['1234'], revision: 90 }, false).warnings[0]).toMatch(
      /newer than every member/,
    );
  });

  it('another cluster id: refused unless forced, in hex as etcd prints ids; forced, a warning', () => {
    const refused = snapshotFit(snap, { clusterIds: ['99'], revision: 5 }, false);
    expect(refused.refuse).toBe(
      'the snapshot was taken of another cluster (id 4d2, "home"); the members here answer as cluster 63: refusing it (pass --force to restore it anyway)',
    );
    const forced = snapshotFit(snap, { clusterIds: ['99'] }, true);
    expect(forced.refuse).toBeUndefined();
    expect(forced.warnings[0]).toMatch(
      /^WARNING: the snapshot was taken of another cluster .*--force restores it anyway/,
    );
  });

  it('nobody answers: the cluster name of the config is the check; no manifest is said', () => {
    expect(snapshotFit(snap, { clusterIds: [], name: 'home' }, false)).toEqual({ warnings: [] });
    expect(snapshotFit(snap, { clusterIds: [], name: 'work' }, false).refuse).toMatch(
      /taken of cluster "home"; this config is for "work": refusing/,
    );
    expect(snapshotFit(snap, { clusterIds: [] }, false)).toEqual({ warnings: [] });
    expect(snapshotFit({ revision: 1, clusterId: null }, { clusterIds: ['1'] }, false).warnings[0]).toMatch(
      /no manifest/,
    );
  });
});
