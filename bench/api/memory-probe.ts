/**
 * Preloaded into the API child (`node --expose-gc --import`), so the product server stays
 * free of debug endpoints: on the parent's IPC message `memory`, collects garbage and answers
 * with `process.memoryUsage()`, which after a full GC is what the process really retains.
 */
process.on('message', (message) => {
  if (message !== 'memory') return;
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.send?.({ rss, heapUsed });
});
