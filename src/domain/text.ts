/** Small wording helpers shared by every message Lifeboat writes. Pure. */

/** "cp1", "cp1 and cp2", "cp1, cp2 and cp3": names in a sentence. */
export function listNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** An error text from a server or a library as one line: a message is one line on stderr, in a log, in JSON. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
