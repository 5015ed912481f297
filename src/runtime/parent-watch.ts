/**
 * Calls `onGone` once when this process's parent exits, seen as a change of parent pid (the
 * orphan is re-parented to init or a subreaper). A server started by a launcher such as npm must
 * not outlive it: if the launcher dies without passing a signal on (SIGKILL, or a shell between
 * them that exits on SIGTERM), nothing else would ever stop the server. The timer never keeps the
 * process alive.
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
