// How every line names a process: "app[4321]", or the name alone when no process runs.
export function who(name: string, pid?: number | null): string {
  return pid === undefined || pid === null ? name : `${name}[${pid}]`;
}
