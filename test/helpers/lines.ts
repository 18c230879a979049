// Byte lines joined as the notify channel carries them: each one ended by a newline.
export function newlineJoined(lines: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(lines.reduce((total, line) => total + line.length + 1, 0));
  let at = 0;
  for (const line of lines) {
    joined.set(line, at);
    joined[at + line.length] = 0x0a;
    at += line.length + 1;
  }
  return joined;
}
