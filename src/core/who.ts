// How every line names a process: "app[4321]", or the name alone when no process runs. The pid's
// digits skip V8's number-to-string cache (decimal.ts): each restart's new pid would stay there.
import { decimal } from './decimal.js';

export function who(name: string, pid?: number | null): string {
  return pid === undefined || pid === null ? name : `${name}[${decimal(pid)}]`;
}
