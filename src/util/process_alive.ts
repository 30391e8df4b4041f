// Whether a process that left a temporary file behind still runs: temporaries carry the pid of
// the run that made them, so a later run removes those of dead runs and leaves live ones alone.

/** Whether process `pid` exists on this machine. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as { code?: string }).code !== 'ESRCH';
  }
}
