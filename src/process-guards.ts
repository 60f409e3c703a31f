/**
 * What every way of starting the CLI (bin/lifeboat.js, the single-file executable) sets up before running a command.
 */
export function installProcessGuards(): void {
  // A library that sets the TLS ServerName to an IP address (an S3 endpoint given by IP, say) makes Node print
  // DEP0123 on every connection; it is noise to a user reading `doctor`. Every other warning still prints.
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const options = typeof rest[0] === 'object' ? (rest[0] as { code?: string; type?: string } | null) : undefined;
    const code = options ? options.code : rest[1];
    if (code === 'DEP0123') return;
    // Our own warnings (LifeboatS3Warning...) are one line for the user, not Node's two-line diagnostic format.
    const type = options ? options.type : rest[0];
    if (typeof type === 'string' && type.startsWith('Lifeboat')) {
      const text = warning instanceof Error ? warning.message : String(warning);
      process.stderr.write(`lifeboat: warning: ${text.replace(/\s*\n\s*/g, ' ')}\n`);
      return;
    }
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;

  // `lifeboat status | head` closes the pipe early; that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

/**
 * A command is done when main returns. A handle something left open (a socket to a frozen etcd member, an HTTP
 * agent) must not keep a one-shot run alive for ever, so scheduled runs pile up: exit anyway after a grace period.
 * unref(): when nothing is left open, the process ends at once as usual.
 */
export function exitWhenDone(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 3000).unref();
}
