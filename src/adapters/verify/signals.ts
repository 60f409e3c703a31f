/**
 * Route SIGINT/SIGTERM to `onSignal` (typically AbortController.abort) while a drill or a schedule runs, instead of
 * Node's default of dying on the spot with a throwaway etcd still running. A second signal is left to the default
 * handler again, so an impatient Ctrl-C still ends the process (the Scratch 'exit' hook still kills the member).
 * Returns the function that removes the handlers.
 */
export function onStopSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    remove();
    process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
    onSignal(signal);
  };
  const remove = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return remove;
}
