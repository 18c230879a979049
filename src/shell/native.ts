// The two libc calls Node does not offer, through koffi (prebuilt binaries, no compiler needed).
// Loaded only when the reaper is needed, so a plain run pays nothing for it.
import koffi from 'koffi';

const PR_SET_CHILD_SUBREAPER = 36;
export const WNOHANG = 1;

const libc = koffi.load('libc.so.6');
const waitpidCall = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const prctlCall = libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');

/** waitpid(pid, &status, options): the pid reaped (0 if still running, -1 on error) and its status. */
export function waitpid(pid: number, options: number): { pid: number; status: number } {
  const status = [0];
  const reaped = waitpidCall(pid, status, options) as number;
  return { pid: reaped, status: status[0] ?? 0 };
}

/** Makes orphaned descendants this process's children, as if it were PID 1 for them. */
export function becomeSubreaper(): boolean {
  return (prctlCall(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) as number) === 0;
}
