import { RowChecksum } from './checksum.js';
import { objectOf, unquote } from './dump-objects.js';

/**
 * Reads a mysqldump / mariadb-dump SQL stream as it passes and says what it holds: databases, per-table row counts
 * and row checksums, views, triggers, routines and events, and whether the dump's own end marker arrived.
 *
 * This is where the backup's consistency comes from (docs/adr/005-mysql-consistency.md): the counts describe
 * exactly the rows the dump contains, i.e. the dump's own snapshot, whatever is written meanwhile. `verify` runs the
 * same parser over a fresh dump of the restored scratch server, so both sides are measured by one yardstick.
 *
 * Shape of the input (both tools): line-oriented DDL and comments, `DELIMITER ;;` blocks for triggers, routines and
 * events, and `INSERT INTO \`t\` VALUES (..),(..);` statements whose rows are one per line (MariaDB >= 10.11) or all
 * on one line (MySQL). Data rows never hold a raw newline (the tools escape \n and \r), a row is only literals (no
 * parentheses outside quotes), and strings use backslash escapes. INSERT lines inside `DELIMITER ;;` blocks are
 * routine bodies, not data.
 */

export interface TableStats {
  database: string;
  table: string;
  rows: number;
  /** lifeboat-rowsum-v1 over the rows as dumped (order-independent). */
  checksum: string;
}

export interface DumpSummary {
  databases: string[];
  tables: TableStats[];
  views: string[];
  triggers: string[];
  routines: string[];
  events: string[];
  /** The dump tool wrote its `-- Dump completed` line: the stream was not cut short. */
  complete: boolean;
  /** From the dump header, when present. */
  serverVersion?: string;
  tool?: string;
  bytes: number;
  rows: number;
}

const NL = 0x0a;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMI = 0x3b;
const COMMA = 0x2c;
const BRACE = 0x7b;
const BRACKET = 0x5b;

/** How much of a line is kept for classification. Longer lines (view bodies, huge DDL) are cut, not buffered. */
const HEAD_BYTES = 1024;

enum Mode {
  /** Collecting the head of an ordinary line. */
  Line = 0,
  /** An INSERT statement's head, up to and including VALUES. */
  InsertHead = 1,
  /** Between rows of an INSERT: whitespace, ',' or the final ';'. */
  BetweenRows = 2,
  /** Inside a row, outside quotes. */
  Row = 3,
  /** Inside a quoted string of a row. */
  RowString = 4,
  /** Just after a backslash inside a quoted string. */
  RowEscape = 5,
  /** The first byte of a quoted string: '{' or '[' starts a JSON document. */
  RowStringStart = 6,
  /** Inside a quoted JSON document (collected, hashed in canonical form at its closing quote). */
  RowJson = 7,
  /** Just after a backslash inside a JSON document. */
  RowJsonEscape = 8,
}

const INSERT_START = /^(?:INSERT|REPLACE)\s/;

export class DumpParser {
  private mode = Mode.Line;
  private head: number[] = [];
  private headTooLong = false;
  private delimiterBlock = false;
  private database = '';
  private current: { stats: TableStats; sum: RowChecksum } | undefined;
  private readonly tables = new Map<string, { stats: TableStats; sum: RowChecksum }>();
  private readonly databases: string[] = [];
  private readonly views = new Set<string>();
  private readonly triggers = new Set<string>();
  private readonly routines = new Set<string>();
  private readonly events = new Set<string>();
  private complete = false;
  private serverVersion: string | undefined;
  private tool: string | undefined;
  private bytes = 0;
  private rows = 0;
  private h1 = 0;
  private h2 = 0;
  private rowLength = 0;
  private json: number[] = [];

  /** The table whose rows are passing right now ("db.table"), for progress displays. */
  get currentTable(): string | undefined {
    return this.current ? `${this.current.stats.database}.${this.current.stats.table}` : undefined;
  }

  get rowsSoFar(): number {
    return this.rows;
  }

  get bytesSoFar(): number {
    return this.bytes;
  }

  feed(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.mode) {
        case Mode.Line:
        case Mode.InsertHead:
          i = this.lineBytes(chunk, i);
          break;
        case Mode.BetweenRows:
          i = this.betweenRows(chunk, i);
          break;
        default:
          i = this.rowBytes(chunk, i);
      }
    }
  }

  end(): DumpSummary {
    if (this.mode === Mode.Line && this.head.length > 0) this.classifyLine();
    const sorted = (set: Set<string>) => [...set].sort();
    return {
      databases: [...this.databases],
      tables: [...this.tables.values()].map(({ stats, sum }) => ({ ...stats, checksum: sum.hex() })),
      views: sorted(this.views),
      triggers: sorted(this.triggers),
      routines: sorted(this.routines),
      events: sorted(this.events),
      complete: this.complete,
      ...(this.serverVersion ? { serverVersion: this.serverVersion } : {}),
      ...(this.tool ? { tool: this.tool } : {}),
      bytes: this.bytes,
      rows: this.rows,
    };
  }

  /** Line (and INSERT head) bytes: collect the head; on newline classify; switch to rows after VALUES. */
  private lineBytes(chunk: Uint8Array, start: number): number {
    const nl = indexOf(chunk, NL, start);
    const end = nl === -1 ? chunk.length : nl;
    const room = HEAD_BYTES - this.head.length;
    const take = Math.min(room, end - start);
    for (let k = 0; k < take; k++) this.head.push(chunk[start + k]!);
    if (end - start > room) this.headTooLong = true;
    if (this.mode === Mode.Line && !this.delimiterBlock && this.head.length >= 7 && this.looksLikeInsert()) {
      this.mode = Mode.InsertHead;
    }
    if (this.mode === Mode.InsertHead) {
      const values = this.valuesEnd();
      if (values !== -1) {
        // Rewind to the byte after VALUES: the rows may follow on this line (MySQL) or the next (MariaDB).
        // (VALUES may have ended in an earlier chunk or line: then everything from `start` on belongs to the rows.)
        const resume = start + Math.max(0, values - (this.head.length - take));
        this.beginInsert();
        return resume;
      }
    }
    if (nl === -1) return chunk.length;
    if (this.mode === Mode.Line) this.classifyLine();
    else this.head.push(0x20); // an INSERT head spanning lines (column lists): keep looking for VALUES
    if (this.mode === Mode.Line) {
      this.head = [];
      this.headTooLong = false;
    }
    return nl + 1;
  }

  private looksLikeInsert(): boolean {
    const c = this.head[0];
    if (c !== 0x49 && c !== 0x52) return false; // I, R
    return INSERT_START.test(String.fromCharCode(...this.head.slice(0, 8)));
  }

  /** Index in head just after `VALUES` (outside backticks), or -1 while it has not arrived. */
  private valuesEnd(): number {
    const text = Buffer.from(this.head).toString('latin1');
    let inIdent = false;
    for (let k = 0; k < text.length; k++) {
      const ch = text[k];
      if (ch === '`') inIdent = !inIdent;
      else if (!inIdent && (ch === 'V' || ch === 'v') && /^values\b/i.test(text.slice(k, k + 7))) {
        if (k + 6 < text.length) return k + 6;
      }
    }
    if (this.headTooLong) throw new Error('INSERT statement head without VALUES within 1 KiB');
    return -1;
  }

  private beginInsert(): void {
    const text = Buffer.from(this.head).toString('utf8');
    const m = /^(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+(`(?:[^`]|``)+`|\w+)/i.exec(text);
    const table = m ? unquote(m[1]!) : '?';
    const key = `${this.database}\u0000${table}`;
    let entry = this.tables.get(key);
    if (!entry) {
      entry = { stats: { database: this.database, table, rows: 0, checksum: '' }, sum: new RowChecksum() };
      this.tables.set(key, entry);
    }
    this.current = entry;
    this.complete = false;
    this.head = [];
    this.headTooLong = false;
    this.mode = Mode.BetweenRows;
  }

  private betweenRows(chunk: Uint8Array, start: number): number {
    for (let i = start; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === OPEN) {
        this.mode = Mode.Row;
        this.h1 = 0x811c9dc5;
        this.h2 = 0x9747b28c;
        this.rowLength = 0;
        return i + 1;
      }
      if (c === SEMI) {
        this.current = undefined;
        this.mode = Mode.Line;
        // Whatever follows on this line (normally only the newline) is an ordinary line.
        return i + 1;
      }
      if (c !== COMMA && c !== NL && c !== 0x20 && c !== 0x0d && c !== 0x09) {
        throw new Error(`unexpected byte 0x${c.toString(16)} between rows of an INSERT`);
      }
    }
    return chunk.length;
  }

  /**
   * Row bytes: hashed one by one; quotes and escapes tracked so a ')' inside a string does not end the row. A string
   * that starts with '{' or '[' is hashed in canonical JSON form (canonicalJson): MySQL prints a JSON DECIMAL 13.70
   * that comes back from a reload as the double 13.7, the same value.
   */
  private rowBytes(chunk: Uint8Array, start: number): number {
    let h1 = this.h1;
    let h2 = this.h2;
    let mode = this.mode;
    let i = start;
    let adjust = 0;
    const n = chunk.length;
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (mode === Mode.Row) {
        if (c === CLOSE) break;
        if (c === QUOTE) mode = Mode.RowStringStart;
      } else if (mode === Mode.RowString) {
        if (c === BACKSLASH) mode = Mode.RowEscape;
        else if (c === QUOTE) mode = Mode.Row;
      } else if (mode === Mode.RowEscape) {
        mode = Mode.RowString;
      } else if (mode === Mode.RowStringStart) {
        if (c === BRACE || c === BRACKET) {
          mode = Mode.RowJson;
          this.json = [c];
          continue;
        }
        mode = c === BACKSLASH ? Mode.RowEscape : c === QUOTE ? Mode.Row : Mode.RowString;
      } else if (mode === Mode.RowJsonEscape || c !== QUOTE) {
        mode = mode === Mode.RowJson && c === BACKSLASH ? Mode.RowJsonEscape : Mode.RowJson;
        this.json.push(c);
        continue;
      } else {
        const canonical = canonicalJson(this.json);
        for (let k = 0; k < canonical.length; k++) {
          h1 = Math.imul(h1 ^ canonical[k]!, 0x01000193);
          h2 = Math.imul(h2 ^ canonical[k]!, 0x5bd1e995);
          h2 ^= h2 >>> 15;
        }
        adjust += canonical.length - this.json.length;
        this.json = [];
        mode = Mode.Row;
      }
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.rowLength += i - start + adjust;
    if (i === n) {
      this.h1 = h1;
      this.h2 = h2;
      this.mode = mode;
      return n;
    }
    this.current!.sum.add(h1, h2, this.rowLength);
    this.current!.stats.rows++;
    this.rows++;
    this.mode = Mode.BetweenRows;
    return i + 1;
  }

  private classifyLine(): void {
    const line = Buffer.from(this.head).toString('utf8');
    // The end marker counts only as the last non-blank line, outside routine bodies.
    if (line.trim() !== '') this.complete = false;
    const first = line.charCodeAt(0);
    if (first === 0x2d) {
      // "-- ..." comments: header facts and the end marker.
      if (line.startsWith('-- Dump completed')) this.complete = !this.delimiterBlock;
      else if (line.startsWith('-- Server version')) this.serverVersion ??= line.slice(17).trim();
      else if (/^-- (MariaDB|MySQL) dump/.test(line)) this.tool ??= line.slice(3).trim();
      return;
    }
    if (line.startsWith('DELIMITER ')) {
      this.delimiterBlock = line.trim() !== 'DELIMITER ;';
      return;
    }
    let m = /^USE\s+(`(?:[^`]|``)+`|\w+)/.exec(line);
    if (m) {
      this.database = unquote(m[1]!);
      return;
    }
    m = /^CREATE DATABASE\s+(?:\/\*!\d+ IF NOT EXISTS\s*\*\/\s*)?(`(?:[^`]|``)+`|\w+)/.exec(line);
    if (m) {
      const db = unquote(m[1]!);
      if (!this.databases.includes(db)) this.databases.push(db);
      this.database = db;
      return;
    }
    m = /^CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(`(?:[^`]|``)+`|\w+)/.exec(line);
    if (m && !this.delimiterBlock) {
      this.table(unquote(m[1]!));
      return;
    }
    this.objects(line);
  }

  private table(name: string): void {
    const key = `${this.database}\u0000${name}`;
    if (!this.tables.has(key)) {
      this.tables.set(key, {
        stats: { database: this.database, table: name, rows: 0, checksum: '' },
        sum: new RowChecksum(),
      });
    }
  }

  private objects(line: string): void {
    const found = objectOf(line, this.database);
    if (found) this[found.kind].add(found.name);
  }
}

function indexOf(chunk: Uint8Array, byte: number, from: number): number {
  return chunk.indexOf(byte, from);
}

const SQL_ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };

/**
 * A JSON document as the engine sees its value: the SQL string unescaped, parsed and printed again, so numbers
 * compare as numbers (13.70 = 13.7 = 1.37e1) and spacing does not matter. Text that only looks like JSON and does
 * not parse is kept byte for byte. (A JSON-looking TEXT column is compared the same way: a change of 1.50 to 1.5 in
 * it goes unnoticed, any other change does not.)
 */
export function canonicalJson(escaped: readonly number[]): Uint8Array {
  const raw = Buffer.from(escaped);
  const text = raw.toString('utf8').replace(/\\(.)/gs, (_, ch: string) => SQL_ESCAPES[ch] ?? ch);
  try {
    return Buffer.from(JSON.stringify(JSON.parse(text)), 'utf8');
  } catch {
    return raw;
  }
}
