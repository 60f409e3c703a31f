import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DumpParser, type DumpSummary } from '../../../src/domain/mysql/dump-parser.js';

/** A dump's text the way mariadb-dump (one row per line) or MySQL's mysqldump (all rows on one line) writes it. */
type Value = null | number | string | Uint8Array;

function literal(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (v instanceof Uint8Array) return v.length ? `0x${Buffer.from(v).toString('hex').toUpperCase()}` : "''";
  // mysql_real_escape_string: \0 \n \r \\ \' \" and ^Z.
  const escaped = v.replace(/[\0\n\r\\'"\x1a]/g, (c) =>
    c === '\0' ? '\\0' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\x1a' ? '\\Z' : `\\${c}`,
  );
  return `'${escaped}'`;
}

function dump(tables: Record<string, Value[][]>, style: 'mariadb' | 'mysql', opts: { end?: boolean } = {}): string {
  const out = [
    '/*M!999999\\- enable the sandbox mode */ ',
    '-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)',
    '-- Server version\t10.11.19-MariaDB-0+deb12u1',
    '/*!40101 SET NAMES utf8mb4 */;',
    'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;',
    '',
    'USE `shop`;',
  ];
  for (const [name, rows] of Object.entries(tables)) {
    out.push(
      `DROP TABLE IF EXISTS \`${name}\`;`,
      `CREATE TABLE \`${name}\` (`,
      '  `a` int(11) DEFAULT NULL',
      ') ENGINE=InnoDB;',
    );
    out.push(`LOCK TABLES \`${name}\` WRITE;`);
    if (rows.length) {
      const tuples = rows.map((r) => `(${r.map(literal).join(',')})`);
      if (style === 'mariadb') out.push(`INSERT INTO \`${name}\` VALUES`, `${tuples.join(',\n')};`);
      else out.push(`INSERT INTO \`${name}\` VALUES ${tuples.join(',')};`);
    }
    out.push('UNLOCK TABLES;');
  }
  if (opts.end !== false) out.push('', '-- Dump completed on 2026-11-27 15:26:16');
  return `${out.join('\n')}\n`;
}

function parse(text: string | Buffer, cuts: number[] = []): DumpSummary {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const parser = new DumpParser();
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.feed(bytes.subarray(at, cut));
    at = cut;
  }
  parser.feed(bytes.subarray(at));
  return parser.end();
}

const value: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom("'", '\\', ')', '(', ';', '),(', "\\'", 'VALUES (', '\n', '`'),
  fc.uint8Array({ maxLength: 20 }),
);
const rows = fc.array(fc.array(value, { minLength: 1, maxLength: 6 }), { maxLength: 40 });

describe('DumpParser', () => {
  it("counts rows per table, whatever they contain, in both tools' layouts, however the stream is cut", () => {
    fc.assert(
      fc.property(rows, rows, fc.array(fc.nat(), { maxLength: 12 }), (a, b, cutSeeds) => {
        const tables = { a, b, empty: [] };
        const maria = dump(tables, 'mariadb');
        const cuts = cutSeeds.map((s) => s % (Buffer.byteLength(maria) + 1));
        const s1 = parse(maria, cuts);
        const s2 = parse(dump(tables, 'mysql'));
        expect(s1.tables.map((t) => [t.table, t.rows])).toEqual([
          ['a', a.length],
          ['b', b.length],
          ['empty', 0],
        ]);
        expect(s1.complete).toBe(true);
        // The row bytes are the same in both layouts, so are the checksums.
        expect(s2.tables).toEqual(s1.tables);
        expect(parse(maria).tables).toEqual(s1.tables);
      }),
      { numRuns: 200 },
    );
  });

  it('checksums ignore row order, see duplicates, and change with any value', () => {
    const base: Value[][] = [
      [1, 'a'],
      [2, "it's"],
      [3, null],
    ];
    const sum = (r: Value[][]) => parse(dump({ t: r }, 'mariadb')).tables[0]!.checksum;
    expect(sum([...base].reverse())).toBe(sum(base));
    expect(sum([...base, [1, 'a']])).not.toBe(sum(base));
    expect(
      sum([
        [1, 'a'],
        [2, "it's"],
        [3, 'NULL'],
      ]),
    ).not.toBe(sum(base));
    expect(
      sum([
        [1, 'a'],
        [2, "it''s"],
        [3, null],
      ]),
    ).not.toBe(sum(base));
    expect(sum([])).toBe('0000000000000000');
  });

  it('reads header facts, objects, and the end marker; a dump without it is incomplete', () => {
    const text = `${dump({ t: [[1]] }, 'mariadb', { end: false })}
/*!50003 CREATE*/ /*!50017 DEFINER=\`root\`@\`localhost\`*/ /*!50003 TRIGGER trg_x BEFORE INSERT ON t FOR EACH ROW BEGIN
  SET NEW.a = 1;
END */;;
DELIMITER ;;
CREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`add\`(IN n INT)
BEGIN
INSERT INTO \`t\` VALUES (1);
CREATE TABLE nope (a int);
END ;;
/*!50106 CREATE*/ /*!50117 DEFINER=\`root\`@\`localhost\`*/ /*!50106 EVENT \`nightly\` ON SCHEDULE EVERY 1 DAY DO DELETE FROM t */ ;;
CREATE DEFINER=\`root\`@\`localhost\` FUNCTION \`f\`() RETURNS int(11)
RETURN 1 ;;
DELIMITER ;
/*!50001 CREATE VIEW \`v\` AS SELECT
 1 AS \`a\` */;
/*!50001 VIEW \`v\` AS select \`t\`.\`a\` AS \`a\` from \`t\` */;
`;
    const s = parse(text);
    expect(s.complete).toBe(false);
    expect(s.databases).toEqual(['shop']);
    expect(s.tables.map((t) => [t.table, t.rows])).toEqual([['t', 1]]);
    expect(s.triggers).toEqual(['shop.trg_x']);
    expect(s.routines).toEqual(['shop.add (procedure)', 'shop.f (function)']);
    expect(s.events).toEqual(['shop.nightly']);
    expect(s.views).toEqual(['shop.v']);
    expect(s.serverVersion).toBe('10.11.19-MariaDB-0+deb12u1');
    expect(s.tool).toMatch(/^MariaDB dump 10\.19/);
    expect(parse(`${text}-- Dump completed on 2026-11-27 15:26:16\n`).complete).toBe(true);
  });

  it('handles column lists, INSERT IGNORE/REPLACE, several databases and several INSERTs per table', () => {
    const text = [
      'USE `one`;',
      "INSERT INTO `t` (`a`, `VALUES`) VALUES (1,'x'),(2,'y');",
      'INSERT IGNORE INTO `t` VALUES',
      "(3,'z');",
      'USE `two`;',
      'REPLACE INTO `t` VALUES (9,NULL);',
      '-- Dump completed on 2026-01-01',
      '',
    ].join('\n');
    const s = parse(text);
    expect(s.tables.map((t) => [t.database, t.table, t.rows])).toEqual([
      ['one', 't', 3],
      ['two', 't', 1],
    ]);
    expect(s.rows).toBe(4);
  });

  it('rejects what is not a dump rather than guessing', () => {
    expect(() => parse('INSERT INTO `t` VALUES x;\n')).toThrow(/between rows/);
  });
});

describe('DumpParser end marker', () => {
  it('counts only as the last line, outside routine bodies', () => {
    const good = dump({ t: [[1]] }, 'mariadb');
    expect(parse(good).complete).toBe(true);
    expect(parse(`${good}INSERT INTO \`t\` VALUES (2);\n`).complete).toBe(false);
    const inBody = `${dump({ t: [[1]] }, 'mariadb', { end: false })}DELIMITER ;;\n-- Dump completed on a routine comment\n`;
    expect(parse(inBody).complete).toBe(false);
  });
});

describe('DumpParser JSON documents', () => {
  const sum = (rows: Value[][], cuts: number[] = []) => parse(dump({ t: rows }, 'mysql'), cuts).tables[0]!.checksum;

  it('compares JSON values as the engine does: 13.70 after a round trip is 13.7, spacing does not count', () => {
    const dumped = sum([[1, '{"price": 13.70, "tags": ["a", "ü"]}']]);
    expect(sum([[1, '{"price": 13.7, "tags": ["a", "ü"]}']])).toBe(dumped);
    expect(sum([[1, '{"price":13.70,"tags":["a","ü"]}']])).toBe(dumped);
    expect(sum([[1, '[1.50, 2]']])).toBe(sum([[1, '[1.5, 2]']]));
  });

  it('still sees a real change, in JSON and in text that only looks like JSON', () => {
    const dumped = sum([[1, '{"price": 13.70}']]);
    expect(sum([[1, '{"price": 13.71}']])).not.toBe(dumped);
    expect(sum([[1, '{"price": "13.70"}']])).not.toBe(dumped);
    expect(sum([[2, '{"price": 13.70}']])).not.toBe(dumped);
    expect(sum([[1, '{not json 13.70']])).not.toBe(sum([[1, '{not json 13.7']]));
  });

  it('gives the same checksum wherever the chunks are cut, escapes inside JSON strings included', () => {
    const rows: Value[][] = [
      [1, '{"q": "it\'s \\"quoted\\" \\\\ (x)", "n": 1.0}'],
      [2, '[]'],
      [3, "{'"],
    ];
    const whole = sum(rows);
    const text = dump({ t: rows }, 'mysql');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 6 }), (cuts) => {
        expect(
          sum(
            rows,
            cuts.sort((a, b) => a - b),
          ),
        ).toBe(whole);
      }),
    );
    expect(parse(text).tables[0]!.rows).toBe(3);
  });
});
