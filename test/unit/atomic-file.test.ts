import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/adapters/host/atomic-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('writeFileAtomic (the one temp + fsync + rename)', () => {
  it('writes, replaces, and leaves no temp file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-atomic-'));
    dirs.push(dir);
    const file = join(dir, 'state.json');
    writeFileAtomic(file, 'one\n', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('one\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileAtomic(file, 'two\n');
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('replace: false never replaces an existing file (EEXIST) and cleans its temp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-atomic-'));
    dirs.push(dir);
    const file = join(dir, 'lifeboat.yaml');
    writeFileAtomic(file, 'mine\n', { replace: false });
    expect(() => writeFileAtomic(file, 'theirs\n', { replace: false })).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    expect(readdirSync(dir)).toEqual(['lifeboat.yaml']);
  });
});
