import { Duplex } from 'node:stream';
import type * as Typage from 'age-encryption';
import { UserError } from '../../errors.js';
import { readInputFile } from '../host/input-file.js';

/**
 * age (https://age-encryption.org/v1) for backups, via typage (age-encryption). Output is the binary age format,
 * byte-compatible with the `age` CLI both ways, so a backup can be decrypted in an emergency with
 * `age -d -i key.txt snapshot.db.age > snapshot.db` and no Lifeboat at all.
 *
 * Streaming: typage encrypts and decrypts web ReadableStreams in age's STREAM format, 64 KiB chunks, so memory is a
 * few chunks whatever the file size; nothing here collects a whole file.
 */

/**
 * typage is an ES module only, so it is loaded with import(), never by a static import: the bundled CLI is CommonJS
 * (ADR 009), and require() of an ES module needs Node >= 20.19. What uses typage below needs loadAge() first.
 */
let typage: typeof Typage | undefined;

export async function loadAge(): Promise<void> {
  typage ??= await import('age-encryption');
}

function lib(): typeof Typage {
  if (!typage) throw new Error('age-encryption is not loaded yet: await loadAge() first');
  return typage;
}

/** Bytes in, bytes out; a stage for stream/promises.pipeline (`pipeline(source, ageEncrypt(r), sink)`). */
export type ByteStage = (input: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array>;

const MAGIC = Buffer.from('age-encryption.org/v1\n');

/** True when the bytes start with the binary age header. (ASCII-armored files, `age -a`, are not recognised.) */
export function isAgeEncrypted(firstBytes: Uint8Array): boolean {
  return firstBytes.length >= MAGIC.length && Buffer.from(firstBytes.subarray(0, MAGIC.length)).equals(MAGIC);
}

/**
 * Checks every recipient now, so a typo in `backups.encryption.recipients` fails before any backup starts, not
 * after the snapshot streamed. Accepts what typage can encrypt to: X25519 `age1...` (what age-keygen prints),
 * plus post-quantum `age1pq1...` and `age1tag1...` (which the Debian age 1.1 CLI cannot decrypt).
 */
export function checkRecipients(recipients: readonly string[]): string[] {
  if (recipients.length === 0)
    throw new UserError('no age recipients given', 'e.g. age1... from age-keygen -y key.txt');
  return recipients.map((raw) => {
    const recipient = raw.trim();
    try {
      new (lib().Encrypter)().addRecipient(recipient);
    } catch (err) {
      throw new UserError(
        `invalid age recipient "${recipient}": ${err instanceof Error ? err.message : String(err)}`,
        'a recipient is the public key age-keygen prints, starting with age1',
      );
    }
    return recipient;
  });
}

/**
 * Identities from the text of an identity file as age-keygen writes it: `AGE-SECRET-KEY-1...` lines, `#` comments
 * and blank lines allowed. Errors name the file and line, never the key itself.
 */
export function parseIdentities(text: string, source: string): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      if (!line.startsWith('AGE-SECRET-KEY-')) throw new Error('not an AGE-SECRET-KEY-1... line');
      new (lib().Decrypter)().addIdentity(line);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new UserError(
        `invalid age identity file ${source}:${i + 1}: ${why}`,
        'generate one with age-keygen -o key.txt',
      );
    }
    identities.push(line);
  });
  if (identities.length === 0) {
    throw new UserError(`no age identity in ${source}`, 'expected an AGE-SECRET-KEY-1... line (age-keygen output)');
  }
  return identities;
}

/** An identity file holds a few keys; `--identity <(pass show age)` is a pipe, read as well. */
export const IDENTITY_FILE_MAX_BYTES = 64 * 1024;

export function readIdentityFile(path: string): string[] {
  const text = readInputFile(path, 'age identity file', { maxBytes: IDENTITY_FILE_MAX_BYTES, pipes: true });
  return parseIdentities(text.toString('utf8'), path);
}

/** The recipient (`age1...`) of an identity, like `age-keygen -y`. */
export function recipientOf(identity: string): Promise<string> {
  return lib().identityToRecipient(identity);
}

/** Encrypt to every recipient (any one of their identities decrypts). Recipients are checked immediately. */
export function ageEncrypt(recipients: readonly string[]): ByteStage {
  const checked = checkRecipients(recipients);
  return (input) =>
    run(input, 'age encryption failed', (source) => {
      const encrypter = new (lib().Encrypter)();
      for (const r of checked) encrypter.addRecipient(r);
      return encrypter.encrypt(source);
    });
}

/** Decrypt with any of these identities (from readIdentityFile). */
export function ageDecrypt(identities: readonly string[]): ByteStage {
  if (identities.length === 0) throw new UserError('no age identity given');
  const list = [...identities];
  return (input) =>
    run(input, 'age decryption failed', (source) => {
      const decrypter = new (lib().Decrypter)();
      for (const id of list) decrypter.addIdentity(id);
      return decrypter.decrypt(source);
    });
}

/** The same as Node Duplex streams, for code that wants `.pipe()` or a stream object rather than a pipeline stage. */
export function ageEncryptStream(recipients: readonly string[]): Duplex {
  return Duplex.from(ageEncrypt(recipients));
}

export function ageDecryptStream(identities: readonly string[]): Duplex {
  return Duplex.from(ageDecrypt(identities));
}

/** What typage says, in words an operator can act on. */
function explain(message: string): string {
  if (message.includes('no identity matched')) return 'no identity matched (is this the right identity file?)';
  if (/invalid tag|final chunk|ciphertext (size|is too small)/.test(message)) {
    return `the file is corrupt or truncated (${message})`;
  }
  if (/header|version line|stanza|non-ASCII/i.test(message)) return `not an age file, or a damaged header (${message})`;
  return message;
}

/**
 * Feed `input` to typage as a web stream that pulls one chunk when asked (so backpressure holds), and yield its
 * output. Errors of the source (a dropped S3 read, an etcd stream cut) pass through unchanged; typage's own errors
 * are reworded and labelled.
 */
async function* run(
  input: AsyncIterable<Uint8Array>,
  label: string,
  start: (source: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  const iterator = input[Symbol.asyncIterator]();
  let sourceError: { err: unknown } | undefined;
  const source = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          sourceError = { err };
          controller.error(err);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const fail = (err: unknown): unknown => {
    if (sourceError && err === sourceError.err) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new Error(`${label}: ${explain(message)}`, { cause: err });
  };
  let output: ReadableStream<Uint8Array>;
  try {
    output = await start(source);
  } catch (err) {
    // typage may still hold the source locked: end the input directly so upstream stops too.
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw fail(err);
  }
  const reader = output.getReader();
  let done = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        done = true;
        throw fail(err);
      }
      if (chunk.done) {
        done = true;
        return;
      }
      yield chunk.value;
    }
  } finally {
    // The consumer stopped early (its own error, or it destroyed the pipeline): stop pulling from the source too.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
