import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3Pending } from '../../src/adapters/store/s3-upload.js';

/**
 * The multipart state machine against a scripted client: the failure paths a real server rarely produces on demand
 * (a part failing mid-upload, a server that cannot abort). The happy paths run against s3rver in
 * test/integration/store-s3.test.ts.
 */
function scripted(fail: { part?: number; abort?: string } = {}) {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async send(command: unknown) {
      if (command instanceof CreateMultipartUploadCommand) {
        calls.push('create');
        return { UploadId: 'u1' };
      }
      if (command instanceof UploadPartCommand) {
        const n = command.input.PartNumber!;
        calls.push(`part ${n} ${(command.input.Body as Buffer).length}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        if (fail.part === n) {
          throw new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
        }
        return { ETag: `"e${n}"` };
      }
      if (command instanceof CompleteMultipartUploadCommand) {
        calls.push(`complete ${command.input.MultipartUpload?.Parts?.map((p) => p.PartNumber).join(',')}`);
        return {};
      }
      if (command instanceof AbortMultipartUploadCommand) {
        calls.push('abort');
        if (fail.abort) throw new S3ServiceException({ name: fail.abort, $fault: 'client', $metadata: {} });
        return {};
      }
      if (command instanceof PutObjectCommand) {
        calls.push(`put ${(command.input.Body as Buffer).length}`);
        return {};
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as S3Client, calls, maxInFlight: () => maxInFlight };
}

const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, () => Buffer.alloc(size, 1)));

function pending(client: S3Client, warnings: string[] = []) {
  return new S3Pending(client, 'b', 'p/x.db', 's3://b/p/x.db', {
    partSize: 100,
    maxInFlight: 2,
    onWarning: (m) => warnings.push(m),
  });
}

describe('S3Pending', () => {
  it('cuts parts, keeps at most maxInFlight uploading, completes only on commit', async () => {
    const s = scripted();
    const p = pending(s.client);
    await pipeline(chunks(25, 30), p.stream); // 750 bytes: 7 full parts + 50
    expect(s.calls.at(-1)).toBe('part 8 50');
    expect(s.calls.some((c) => c.startsWith('complete'))).toBe(false);
    expect(s.maxInFlight()).toBeLessThanOrEqual(2);
    await p.commit();
    expect(s.calls.at(-1)).toBe('complete 1,2,3,4,5,6,7,8');
  });

  it('a small object stays in memory and is one PutObject at commit', async () => {
    const s = scripted();
    const p = pending(s.client);
    await pipeline(chunks(1, 99), p.stream);
    expect(s.calls).toEqual([]);
    await p.commit();
    expect(s.calls).toEqual(['put 99']);
  });

  it('a failed part fails the stream in one line; abort then removes the upload', async () => {
    const s = scripted({ part: 2 });
    const p = pending(s.client);
    await expect(pipeline(chunks(20, 50), p.stream)).rejects.toThrow(
      /^s3:\/\/b\/p\/x\.db: InternalError .*while uploading part 2$/,
    );
    await expect(p.commit()).rejects.toThrow(/before the stream finished|InternalError/);
    await p.abort();
    expect(s.calls.at(-1)).toBe('abort');
  });

  it('when the server cannot abort, abort() still resolves and warns once, in one line', async () => {
    const s = scripted({ abort: 'MethodNotAllowed' });
    const warnings: string[] = [];
    const p = pending(s.client, warnings);
    await pipeline(chunks(3, 100), p.stream);
    await p.abort();
    await p.abort();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^s3:\/\/b\/p\/x\.db: MethodNotAllowed while aborting multipart upload u1; its parts stay stored until removed/,
    );
    expect(warnings[0]).not.toContain('\n');
  });

  it('NoSuchUpload on abort means already gone: no warning', async () => {
    const s = scripted({ abort: 'NoSuchUpload' });
    const warnings: string[] = [];
    const p = pending(s.client, warnings);
    await pipeline(chunks(3, 100), p.stream);
    await p.abort();
    expect(warnings).toEqual([]);
  });
});
