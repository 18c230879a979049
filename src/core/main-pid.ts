// MAINPID=N: whether keepalive takes process N as the run's main process, as systemd takes a
// Type=notify service's. Pure: the shell reads the facts from /proc. Only a process keepalive can
// wait for and may signal qualifies: alive, of the child's own tree, and coming back to keepalive
// when its parent ends (keepalive is its subreaper); systemd likewise refuses a pid outside the
// service's cgroup.

export type MainPidRefusal = 'keepalive' | 'init' | 'not-reaper' | 'no-process' | 'outside-tree';

export interface MainPidFacts {
  pid: number;
  /** keepalive's own pid. */
  supervisorPid: number;
  /** keepalive is a subreaper or PID 1: the run's orphans come back to it. */
  reaper: boolean;
  /** /proc shows the process, not a zombie. */
  alive: boolean;
  /** Its ancestry meets the run's leader (or keepalive, as an orphan of the run). */
  inTree: boolean;
}

/** Why MAINPID=N is refused; undefined when it is taken. */
export function judgeMainPid(facts: MainPidFacts): MainPidRefusal | undefined {
  if (facts.pid === facts.supervisorPid) return 'keepalive';
  if (facts.pid <= 1) return 'init';
  if (!facts.reaper) return 'not-reaper';
  if (!facts.alive) return 'no-process';
  if (!facts.inTree) return 'outside-tree';
  return undefined;
}

export function refusalWords(refusal: MainPidRefusal): string {
  switch (refusal) {
    case 'keepalive':
      return 'that is keepalive itself';
    case 'init':
      return 'pid 1 is no process of the child';
    case 'not-reaper':
      return (
        'keepalive is no subreaper here (--no-subreaper, or the API without subreaper: ' +
        'true), so it could not wait for that process'
      );
    case 'no-process':
      return 'no such process';
    case 'outside-tree':
      return "not a process of the child's tree";
  }
}
