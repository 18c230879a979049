// What keepalive's place in the process tree asks of it. Pure: the facts are read at start.

export interface RoleFacts {
  /** keepalive is PID 1 of its namespace (a container's ENTRYPOINT). */
  pid1: boolean;
  /** --subreaper (on by default where the tree can be known). */
  subreaperOption: boolean;
  /** The flag was already set (PR_GET_CHILD_SUBREAPER): a parent set it and exec'd keepalive. */
  alreadySubreaper: boolean;
  /** /proc and prctl exist (Linux). */
  treeKnown: boolean;
  /**
   * keepalive is the whole program (the CLI: it handles the process's signals): no child of the
   * process is anyone else's. An embedding program's own children must never be reaped or swept.
   */
  wholeProcess: boolean;
}

export interface Role {
  /** Ask the kernel to reparent the child's orphans to keepalive. */
  becomeSubreaper: boolean;
  /** Orphans come to keepalive, so keepalive must reap them: nobody else will. */
  reapOrphans: boolean;
  /** Ctrl+Z can stop keepalive; PID 1 cannot stop itself (the kernel ignores SIGSTOP there). */
  canSuspend: boolean;
}

export function roleOf(facts: RoleFacts): Role {
  const becomeSubreaper =
    facts.treeKnown && facts.subreaperOption && !facts.pid1 && !facts.alreadySubreaper;
  return {
    becomeSubreaper,
    // As PID 1 or under an inherited flag orphans come anyway; only the whole program may take
    // them.
    reapOrphans:
      facts.treeKnown &&
      (becomeSubreaper ||
        ((facts.pid1 || facts.alreadySubreaper) && (facts.subreaperOption || facts.wholeProcess))),
    canSuspend: !facts.pid1,
  };
}
