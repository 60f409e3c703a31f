import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ageDecrypt,
  ageDecryptStream,
  ageEncrypt,
  ageEncryptStream,
  checkRecipients,
  isAgeEncrypted,
  loadAge,
  parseIdentities,
  readIdentityFile,
  recipientOf,
} from '../../src/adapters/crypto/age.js';
import { LocalStore } from '../../src/adapters/store/local.js';
import { UserError } from '../../src/errors.js';
import { patternChunks, rssGrowth, sha256Of } from '../helpers/store-contract.js';

/** Interoperability with the real `age` CLI (Debian's /usr/bin/age), both directions, and streaming memory. */

let dir: string;
let keyFile: string;
let recipient: string;

function age(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('age', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`age ${args.join(' ')}: ${code} ${stderr}`)),
    );
  });
}

async function writeFile(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  await pipeline(chunks, createWriteStream(path));
}

beforeAll(async () => {
  await loadAge();
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-age-'));
  keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('age interoperability with the age CLI', () => {
  // Sizes around the 64 KiB STREAM chunk: empty, one byte, exactly one chunk, a chunk and a bit, several MiB.
  for (const size of [0, 1, 65536, 65537, 3 * 1024 * 1024 + 17]) {
    it(`our encryption decrypts with age -d (${size} bytes)`, async () => {
      const plain = join(dir, `plain-${size}`);
      const enc = join(dir, `ours-${size}.age`);
      await writeFile(plain, patternChunks(size, size));
      await pipeline(createReadStream(plain), ageEncrypt([recipient]), createWriteStream(enc));
      expect(isAgeEncrypted(readFileSync(enc).subarray(0, 64))).toBe(true);
      // stdout rather than -o: age creates no output file at all for an empty plaintext.
      const back = execFileSync('age', ['-d', '-i', keyFile, enc], { maxBuffer: 64 * 1024 * 1024 });
      expect(back.equals(readFileSync(plain))).toBe(true);
    });

    it(`age -r output decrypts with ours (${size} bytes)`, async () => {
      const plain = join(dir, `plain2-${size}`);
      const enc = join(dir, `theirs-${size}.age`);
      await writeFile(plain, patternChunks(size, size + 1));
      await age(['-r', recipient, '-o', enc, plain]);
      const identities = readIdentityFile(keyFile);
      const expected = await sha256Of(createReadStream(plain));
      // Both shapes: the pipeline stage (async generator) and the Duplex stream.
      expect(await sha256Of(ageDecrypt(identities)(createReadStream(enc)))).toEqual(expected);
      expect(await sha256Of(createReadStream(enc).pipe(ageDecryptStream(identities)))).toEqual(expected);
    });
  }

  it('encrypts to several recipients; either identity decrypts', async () => {
    const other = join(dir, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const otherRecipient = await recipientOf(readIdentityFile(other)[0]!);
    const enc = join(dir, 'two.age');
    await pipeline(
      Readable.from([Buffer.from('for two')]),
      ageEncryptStream([recipient, otherRecipient]),
      createWriteStream(enc),
    );
    for (const key of [keyFile, other]) {
      expect(execFileSync('age', ['-d', '-i', key, enc], { encoding: 'utf8' })).toBe('for two');
    }
  });
});

describe('age errors', () => {
  it('a malformed recipient is a UserError naming it, before any byte flows', () => {
    const typo = `${recipient.slice(0, -1)}${recipient.endsWith('q') ? 'p' : 'q'}`;
    for (const bad of ['age1notarealkey', 'AGE-SECRET-KEY-1XYZ', 'ssh-ed25519 AAAA', typo]) {
      expect(() => ageEncrypt([bad])).toThrow(UserError);
      expect(() => checkRecipients([bad])).toThrow(`invalid age recipient "${bad}"`);
    }
    expect(() => ageEncrypt([])).toThrow(/no age recipients/);
  });

  it('identity files: comments allowed, bad lines named by file:line without echoing the key', () => {
    const text = readFileSync(keyFile, 'utf8');
    expect(text).toMatch(/^# created: /);
    expect(parseIdentities(text, keyFile)).toHaveLength(1);
    const broken = `# comment\n\nAGE-SECRET-KEY-1NOTVALIDATALL\n`;
    expect(() => parseIdentities(broken, 'k.txt')).toThrow(/^invalid age identity file k\.txt:3: /);
    expect(() => parseIdentities(broken, 'k.txt')).not.toThrow(/NOTVALID/);
    expect(() => parseIdentities('# only comments\n', 'k.txt')).toThrow(/no age identity in k\.txt/);
    expect(() => readIdentityFile(join(dir, 'missing.txt'))).toThrow(
      /cannot read age identity file .*missing\.txt: no such file or directory/,
    );
  });

  it('the wrong identity, a truncated file and plaintext fail in words', async () => {
    const enc = join(dir, 'wrong.age');
    await age(['-r', recipient, '-o', enc, keyFile]);
    const other = join(dir, 'other2.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const drain = async (input: Readable, ids: string[]) => sha256Of(input.pipe(ageDecryptStream(ids)));
    await expect(drain(createReadStream(enc), readIdentityFile(other))).rejects.toThrow(
      /^age decryption failed: no identity matched/,
    );
    const bytes = readFileSync(enc);
    await expect(
      drain(Readable.from([bytes.subarray(0, bytes.length - 10)]), readIdentityFile(keyFile)),
    ).rejects.toThrow(/corrupt or truncated/);
    await expect(drain(Readable.from([Buffer.from('plain etcd bytes\n')]), readIdentityFile(keyFile))).rejects.toThrow(
      /^age decryption failed: /,
    );
    expect(isAgeEncrypted(Buffer.from('plain etcd bytes\n'))).toBe(false);
  });

  it('a failing source passes its own error through, untouched', async () => {
    async function* dying() {
      yield Buffer.alloc(100_000);
      throw new Error('snapshot stream ended early');
    }
    const sink = async (input: AsyncIterable<Uint8Array>) => {
      for await (const _ of input) {
        // drain
      }
    };
    await expect(pipeline(dying(), ageEncrypt([recipient]), sink)).rejects.toThrow(/^snapshot stream ended early$/);
  });
});

describe('age streaming', () => {
  it('40 MiB encrypt into a store and decrypt back with bounded memory', async () => {
    const size = 40 * 1024 * 1024;
    const store = new LocalStore(join(dir, 'store'));
    const expected = await sha256Of(patternChunks(size, 3));
    const enc = await rssGrowth(async () => {
      const pending = await store.create('etcd/x.db.age', { expectedSize: size });
      await pipeline(patternChunks(size, 3), ageEncrypt([recipient]), pending.stream);
      await pending.commit();
    });
    const dec = await rssGrowth(async () =>
      sha256Of((await store.read('etcd/x.db.age')).pipe(ageDecryptStream(readIdentityFile(keyFile)))),
    );
    expect(dec.result).toEqual(expected);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    console.info(
      `age 40 MiB: encrypt ${mb(size / (enc.ms / 1000))} MB/s, RSS +${mb(enc.growth)} MB, live +${mb(enc.live)} MB; ` +
        `decrypt ${mb(size / (dec.ms / 1000))} MB/s, RSS +${mb(dec.growth)} MB, live +${mb(dec.live)} MB`,
    );
    for (const m of [enc, dec]) {
      expect(m.live).toBeLessThan(size * 0.6);
      expect(m.growth).toBeLessThan(size);
    }
  });
});
