import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseFrom } from '../../src/commands/check.js';
import { UserError } from '../../src/errors.js';

/** What --from meant when luxon read every value: the oracle. */
function luxonFrom(text: string): number | 'invalid' {
  const dt = DateTime.fromISO(text.trim(), { zone: 'UTC', setZone: true });
  return dt.isValid ? dt.toMillis() : 'invalid';
}

async function ours(text: string): Promise<number | 'invalid'> {
  try {
    return await parseFrom(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `invalid --from "${text}" (ISO-8601, e.g. 2026-01-05 or 2026-01-05T04:00:00+09:00)`,
    );
    return 'invalid';
  }
}

describe('check --from', () => {
  it.each([
    ['2026-01-05', '2026-01-05T00:00:00.000Z'],
    ['  2026-01-05T04:00  ', '2026-01-05T04:00:00.000Z'],
    ['2026-01-05T04:00:00Z', '2026-01-05T04:00:00.000Z'],
    ['2026-01-05t04:00:00z', '2026-01-05T04:00:00.000Z'],
    ['2026-01-05T04:00:00.123Z', '2026-01-05T04:00:00.123Z'],
    ['2026-01-05T04:00:00.1239Z', '2026-01-05T04:00:00.123Z'],
    ['2026-01-05T04:00:00+09:00', '2026-01-04T19:00:00.000Z'],
    ['2026-01-05T04:00:00-0330', '2026-01-05T07:30:00.000Z'],
    ['2024-02-29T12:00', '2024-02-29T12:00:00.000Z'],
    ['2026-01-05T24:00', '2026-01-06T00:00:00.000Z'],
    // Rarer forms: luxon still reads them.
    ['2026-W02-1', '2026-01-05T00:00:00.000Z'],
    ['2026-005', '2026-01-05T00:00:00.000Z'],
    ['20260105T0400Z', '2026-01-05T04:00:00.000Z'],
    ['2026-01-05T04+09', '2026-01-04T19:00:00.000Z'],
  ])('reads %j', async (text, iso) => {
    expect(new Date(await parseFrom(text)).toISOString()).toBe(iso);
  });

  it.each([
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-01-05T25:00',
    '2026-01-05T24:00:01',
    '2026-01-05T04:60',
    '2026-01-05T04:00:60',
    'yesterday',
    '',
    '2026-01-05 04:00',
  ])('rejects %j as luxon did', async (text) => {
    expect(luxonFrom(text)).toBe('invalid');
    expect(await ours(text)).toBe('invalid');
  });

  it('agrees with luxon on generated ISO-like text', async () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const text = fc
      .record({
        year: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        month: two(13),
        day: two(32),
        time: fc.option(
          fc.record({
            t: fc.constantFrom('T', 't'),
            hour: two(25),
            minute: two(60),
            second: fc.option(two(60)),
            fraction: fc.option(fc.stringMatching(/^[0-9]{1,12}$/)),
            offset: fc.option(
              fc.oneof(
                fc.constantFrom('Z', 'z'),
                fc.tuple(fc.constantFrom('+', '-'), two(24), fc.constantFrom(':', ''), two(60)).map((p) => p.join('')),
              ),
            ),
          }),
        ),
      })
      .map(({ year, month, day, time }) => {
        let s = `${year}-${month}-${day}`;
        if (time) {
          s += `${time.t}${time.hour}:${time.minute}`;
          if (time.second !== null) s += `:${time.second}${time.fraction !== null ? `.${time.fraction}` : ''}`;
          if (time.offset !== null) s += time.offset;
        }
        return s;
      });
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        expect(await ours(s)).toBe(luxonFrom(s));
      }),
      { numRuns: 5000 },
    );
  });
});
