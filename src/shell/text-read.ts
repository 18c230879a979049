// readFileSync's options, made once. Given a string ('utf8'), Node's fs copies its defaults into a
// new object on every call, and V8 soon allocates those straight in the old generation: reading
// /proc a few times per restart left 1.3 KB a restart for full GCs, most of what outlived the runs.
export const UTF8 = Object.freeze({ encoding: 'utf8' as const });
export const LATIN1 = Object.freeze({ encoding: 'latin1' as const });
