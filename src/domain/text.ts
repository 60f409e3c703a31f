/** Small wording helpers shared by every message Lifeboat writes. Pure. */

/** "cp1", "cp1 and cp2", "cp1, cp2 and cp3": names in a sentence; past `max`, "cp1, ... and 4 more". */
export function listNames(names: string[], max = Number.POSITIVE_INFINITY): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length > max) return `${names.slice(0, max - 1).join(', ')} and ${names.length - max + 1} more`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** An error text from a server or a library as one line: a message is one line on stderr, in a log, in JSON. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A clause as the start of a sentence: its first letter upper-case. */
export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
