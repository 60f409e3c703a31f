import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Where a command writes. Colours only on a TTY, never with NO_COLOR or --json. */
export interface Output {
  json: boolean;
  color: Colors;
  isTTY: boolean;
  /** A line (or block) of human output on stdout. */
  print(text: string): void;
  /** A machine-readable document on stdout. */
  printJson(value: unknown): void;
  /** Diagnostics on stderr (never mixed into --json stdout). */
  warn(text: string): void;
}

export function createOutput(opts: {
  json: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}): Output {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const isTTY = Boolean(stdout.isTTY);
  const colorEnabled = isTTY && !opts.json && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return {
    json: opts.json,
    isTTY,
    color: pc.createColors(colorEnabled),
    print: (text) => stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (text) => stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
