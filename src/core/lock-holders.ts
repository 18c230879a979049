// Who holds a file's flock(2) lock, from the text of /proc/locks. The kernel writes one line per
// lock: "2: FLOCK  ADVISORY  WRITE 4321 fe:00:5317489 0 EOF", and "2: -> FLOCK ..." for a process
// still waiting for it. Any user may read the file, and no process can make it name another pid.
// /proc/PID/fdinfo/FD has the same lines, after "lock:", for the locks held through that FD.

/**
 * The pids holding an exclusive flock on the file with this inode number (decimal, as the kernel
 * prints it). The device is not compared: on btrfs subvolumes and overlayfs, stat(2) reports
 * another device than the one /proc/locks prints. An open file's inode number is not reused, so
 * only a file on another filesystem could share it, and it would have to be locked by the very
 * process a trusted record names.
 */
export function flockHolders(procLocks: string, inode: string): number[] {
  const holders: number[] = [];
  for (const line of procLocks.split('\n')) {
    const [, type, , access, pid = '', file = ''] = line
      .replace(/^lock:/, '')
      .trim()
      .split(/\s+/);
    // A waiter's line has "->" where the type stands: it does not hold the lock.
    if (type !== 'FLOCK' || access !== 'WRITE' || !/^\d{1,10}$/.test(pid)) continue;
    const onInode = file.slice(file.lastIndexOf(':') + 1) === inode;
    if (onInode && Number(pid) > 0) holders.push(Number(pid));
  }
  return holders;
}
