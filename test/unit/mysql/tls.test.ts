import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/domain/config.js';
import { CONFIG_TLS_NAMES, tlsPemFromSecret, tlsSettings } from '../../../src/domain/mysql/tls.js';
import { parseMysqlUrl, TLS_GIVEN_TWICE } from '../../../src/domain/mysql/url.js';
import { issueKeys } from '../../../src/domain/validation.js';

const PEM = { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' };

describe('tlsSettings: one rule for the URL, tls: and a Secret', () => {
  it('nothing given is the clients default; any TLS setting means TLS, verified when there is a CA', () => {
    expect(tlsSettings({})).toBeUndefined();
    expect(tlsSettings({ pem: {} })).toBeUndefined();
    expect(tlsSettings({ pem: { cert: PEM.cert, key: PEM.key } })).toEqual({
      mode: 'REQUIRED',
      pem: { cert: PEM.cert, key: PEM.key },
    });
    expect(tlsSettings({ pem: PEM })).toEqual({ mode: 'VERIFY_CA', pem: PEM });
    expect(tlsSettings({ mode: 'verify_identity', pem: { ca: PEM.ca } })).toEqual({
      mode: 'VERIFY_IDENTITY',
      pem: { ca: PEM.ca },
    });
    expect(tlsSettings({ mode: 'disabled' })).toEqual({ mode: 'DISABLED' });
  });

  it('a path wins over the same file from the Secret; the Secret fills the rest', () => {
    expect(tlsSettings({ ca: '/etc/my-ca.pem', pem: PEM })).toEqual({
      mode: 'VERIFY_CA',
      ca: '/etc/my-ca.pem',
      pem: { cert: PEM.cert, key: PEM.key },
    });
  });

  it('names the setting as it was given when something is missing or wrong', () => {
    expect(tlsSettings({ mode: 'VERIFY_CA', pem: { cert: 'c', key: 'k' } }, CONFIG_TLS_NAMES)).toEqual({
      error: "tls.mode=VERIFY_CA needs tls.ca=PATH (the CA that signed the server's certificate)",
    });
    expect(tlsSettings({ cert: '/c.pem' }, CONFIG_TLS_NAMES)).toEqual({
      error: 'give tls.cert and tls.key together (a client certificate)',
    });
    expect(tlsSettings({ mode: 'often' })).toEqual({
      error: 'ssl-mode=often is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY',
    });
  });
});

describe('tlsPemFromSecret', () => {
  it("reads a kubernetes.io/tls Secret's keys (and cert-manager's ca.crt)", () => {
    expect(tlsPemFromSecret({ 'ca.crt': 'A', 'tls.crt': 'B', 'tls.key': 'C', other: 'x' }, 'secret s/t')).toEqual({
      ca: 'A',
      cert: 'B',
      key: 'C',
    });
    expect(tlsPemFromSecret({ 'ca.crt': 'A' }, 'secret s/t')).toEqual({ ca: 'A' });
  });

  it('a Secret with none of them is one clear line naming what it holds', () => {
    expect(tlsPemFromSecret({ password: 'x', 'ca.pem': 'y' }, 'secret s/t')).toEqual({
      error: 'secret s/t holds none of ca.crt, tls.crt, tls.key',
      hint: 'keys: password, ca.pem',
    });
    expect(tlsPemFromSecret({}, 'secret s/t')).toEqual({ error: 'secret s/t holds none of ca.crt, tls.crt, tls.key' });
  });
});

describe('parseMysqlUrl with TLS beside the URL', () => {
  it("takes a database's tls: keys, or the URL's ssl-* parameters, not both", () => {
    expect(
      parseMysqlUrl('mysql://b@db/shop', { tls: { mode: 'REQUIRED', ca: '/ca.pem' }, names: CONFIG_TLS_NAMES }),
    ).toMatchObject({ target: { tls: { mode: 'REQUIRED', ca: '/ca.pem' }, display: 'mysql://b@db:3306/shop' } });
    expect(parseMysqlUrl('mysql://b@db/shop?ssl-mode=REQUIRED', { tls: { mode: 'REQUIRED' } })).toEqual({
      error: TLS_GIVEN_TWICE,
    });
  });

  it("a Secret's files complete the URL's ssl-mode", () => {
    expect(parseMysqlUrl('mysql://b@db?ssl-mode=VERIFY_IDENTITY', { tls: { pem: PEM } })).toMatchObject({
      target: { tls: { mode: 'VERIFY_IDENTITY', pem: PEM } },
    });
    expect(parseMysqlUrl('mysql://b@db?ssl-mode=VERIFY_CA', { tls: { pem: { cert: 'c', key: 'k' } } })).toEqual({
      error: "ssl-mode=VERIFY_CA needs ssl-ca=PATH (the CA that signed the server's certificate)",
    });
  });
});

describe('lifeboat.yaml databases[].tls', () => {
  const issues = (tls: unknown, url = 'mysql://backup@db/shop') => {
    const r = v.safeParse(configSchema, { databases: [{ name: 'shop', url, tls }] });
    return r.success ? [] : r.issues.map((i) => `${issueKeys(i).join('.')}: ${i.message}`);
  };

  it('accepts a mode, paths and a Secret', () => {
    expect(issues({ mode: 'verify_identity', ca: 'ca.pem' })).toEqual([]);
    expect(issues({ secret: { namespace: 'shop', name: 'mysql-client-tls' } })).toEqual([]);
    // What the Secret holds is known when it is read: VERIFY_CA with only a Secret is checked then.
    expect(issues({ mode: 'VERIFY_CA', secret: { namespace: 'shop', name: 'tls' } })).toEqual([]);
    const r = v.safeParse(configSchema, {
      databases: [{ name: 'shop', url: 'mysql://b@db', tls: { mode: 'required' } }],
    });
    expect(r.success && r.output.databases?.[0]?.tls?.mode).toBe('REQUIRED');
  });

  it('names what is wrong and where', () => {
    expect(issues({ mode: 'sometimes' })[0]).toMatch(/^databases\.0\.tls\.mode: one of DISABLED/);
    expect(issues({ mode: 'VERIFY_CA' })).toEqual([
      "databases.0.tls: tls.mode=VERIFY_CA needs tls.ca=PATH (the CA that signed the server's certificate)",
    ]);
    expect(issues({ cert: '/c.pem' })).toEqual([
      'databases.0.tls: give tls.cert and tls.key together (a client certificate)',
    ]);
    expect(issues({ mode: 'REQUIRED' }, 'mysql://b@db/shop?ssl-mode=REQUIRED')).toEqual([
      `databases.0.tls: ${TLS_GIVEN_TWICE}`,
    ]);
    expect(issues({ secret: { namespace: 'shop' } })[0]).toMatch(/^databases\.0\.tls\.secret\.name/);
    expect(issues({ ca: '/ca.pem', password: 'x' })[0]).toMatch(/^databases\.0\.tls\.password/);
  });
});
