/**
 * Loads a single-database dump under another name (`restore mysql FILE --url mysql://u@h/NEWNAME`): rewrites the
 * statements that name the database, `CREATE DATABASE`, `USE` and `ALTER DATABASE` (which mariadb-dump puts around
 * routines), and leaves every other byte alone. Those statements are always whole lines at the start of a line, so
 * the rewriter only looks at line starts; data lines pass through untouched. Pure and streaming: bounded by the
 * longest line.
 */
export class DatabaseRenamer {
  private carry: Buffer = Buffer.alloc(0);
  private readonly from: string;
  private readonly to: string;

  constructor(from: string, to: string) {
    this.from = quote(from);
    this.to = quote(to);
  }

  /** Bytes that are complete lines (rewritten where needed); a partial last line waits for the next chunk. */
  push(chunk: Buffer): Buffer {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = data.lastIndexOf(0x0a);
    if (last === -1) {
      this.carry = data;
      return Buffer.alloc(0);
    }
    this.carry = Buffer.from(data.subarray(last + 1));
    return this.rewrite(data.subarray(0, last + 1));
  }

  flush(): Buffer {
    const rest = this.rewrite(this.carry);
    this.carry = Buffer.alloc(0);
    return rest;
  }

  private rewrite(block: Buffer): Buffer {
    // Fast path: the old name does not occur at all in this block.
    if (block.indexOf(this.from) === -1) return block;
    const out: Buffer[] = [];
    let start = 0;
    while (start < block.length) {
      let end = block.indexOf(0x0a, start);
      end = end === -1 ? block.length : end + 1;
      const line = block.subarray(start, end);
      out.push(NAMING.test(line.subarray(0, 64).toString('latin1')) ? this.replaceLine(line) : line);
      start = end;
    }
    return Buffer.concat(out);
  }

  private replaceLine(line: Buffer): Buffer {
    const text = line.toString('utf8');
    const at = text.indexOf(this.from);
    if (at === -1) return line;
    return Buffer.from(text.slice(0, at) + this.to + text.slice(at + this.from.length), 'utf8');
  }
}

const NAMING = /^(?:CREATE DATABASE\b|USE\s|\/\*!\d+ ALTER DATABASE\b|-- Current Database:)/;

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
