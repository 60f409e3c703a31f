import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRelease,
  decodeSecretPayload,
  ReleaseDecodeError,
  type StoredRelease,
  selectCurrent,
} from '../../../src/domain/helm/release.js';
import { coalesceValues } from '../../../src/domain/helm/values.js';
import { encodeRelease, releaseConfigMap, releaseJson, releaseSecret, shop } from '../../fixtures/kube-api/helm.js';

describe('decoding Helm 3 release objects', () => {
  const spec = shop(4, 'deployed', { replicaCount: 3, image: { tag: 'x' } });

  it('Secret driver, gzip: Kubernetes base64 of Helm base64 of gzip of JSON', () => {
    const secret = releaseSecret(spec);
    const { release, gzipped } = decodeSecretPayload(secret.data.release);
    expect(gzipped).toBe(true);
    expect(release).toEqual(releaseJson(spec));
    expect(release.config).toEqual({ replicaCount: 3, image: { tag: 'x' } });
  });

  it('legacy releases are not gzipped; the ConfigMap driver has no Kubernetes base64 layer', () => {
    expect(decodeSecretPayload(releaseSecret(spec, false).data.release)).toEqual({
      release: releaseJson(spec),
      gzipped: false,
    });
    expect(decodeRelease(releaseConfigMap(spec).data.release).release).toEqual(releaseJson(spec));
  });

  it('property: any values survive encode -> decode, gzipped or not', () => {
    const values = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
    );
    fc.assert(
      fc.property(values, fc.boolean(), (config, gzip) => {
        const json = releaseJson({ ...spec, config });
        expect(decodeRelease(encodeRelease(json, gzip)).release).toEqual(json);
      }),
      { numRuns: 50 },
    );
  });

  it('garbage is a ReleaseDecodeError, not a crash', () => {
    expect(() => decodeRelease('')).toThrow(ReleaseDecodeError);
    expect(() => decodeRelease(Buffer.from('{"nope":1}').toString('base64'))).toThrow(/lacks a name or a chart/);
    expect(() => decodeRelease(Buffer.from([0x1f, 0x8b, 0x08, 1, 2, 3]).toString('base64'))).toThrow(/not valid gzip/);
    expect(() => decodeRelease(Buffer.from('hello').toString('base64'))).toThrow(/not JSON/);
  });
});

describe('selectCurrent', () => {
  const stored = (name: string, version: number, status: string, namespace = 'ns'): StoredRelease => ({
    release: { name, namespace, version, info: { status }, chart: { metadata: { name, version: '1' } } },
    driver: 'secret',
    object: `sh.helm.release.v1.${name}.v${version}`,
    gzipped: true,
  });

  it('highest deployed revision; else the highest; uninstalled releases are reported, not captured', () => {
    const { current, uninstalled } = selectCurrent([
      stored('a', 1, 'superseded'),
      stored('a', 2, 'deployed'),
      stored('a', 3, 'failed'),
      stored('b', 1, 'failed'),
      stored('b', 2, 'pending-install'),
      stored('a', 1, 'deployed', 'other'),
      stored('c', 1, 'superseded'),
      stored('c', 2, 'uninstalled'),
    ]);
    expect(current.map((s) => `${s.release.namespace}/${s.release.name}@${s.release.version}`)).toEqual([
      'ns/a@2',
      'ns/b@2',
      'other/a@1',
    ]);
    expect(uninstalled).toEqual([{ namespace: 'ns', name: 'c', revision: 2 }]);
  });
});

describe('coalesceValues (helm get values --all)', () => {
  it('user values over chart defaults, maps merged deeply, null deletes, lists replaced', () => {
    const defaults = { image: { repository: 'nginx', tag: '1' }, hosts: ['a', 'b'], keep: 1, drop: { x: 1 } };
    const user = { image: { tag: '2' }, hosts: ['c'], drop: null, extra: { y: true } };
    expect(coalesceValues(defaults, user)).toEqual({
      image: { repository: 'nginx', tag: '2' },
      hosts: ['c'],
      keep: 1,
      extra: { y: true },
    });
    expect(coalesceValues(null, undefined)).toEqual({});
    expect(defaults.image.tag).toBe('1'); // inputs untouched
  });
});
