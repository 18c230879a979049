// Text keepalive did not write itself (a record's fields, a child's STATUS= line) is shown to
// people on terminals: without control characters, it can only be read, never obeyed.

// C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}

/** At most `max` UTF-16 units, never cutting a surrogate pair in two; "…" marks a cut. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
