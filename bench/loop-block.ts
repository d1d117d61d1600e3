/**
 * The longest block of the event loop while `run` goes on, as a 1 ms ticker sees it. The ticker
 * runs on for `tailMs` after `run` ends, so a block that ends in the same turn as `run` is seen too.
 */
export async function longestLoopBlock<T>(run: () => Promise<T>, tailMs: number): Promise<{ longest: number; result: T }> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    const result = await run();
    await new Promise((done) => setTimeout(done, tailMs));
    return { longest, result };
  } finally {
    clearInterval(ticker);
  }
}
