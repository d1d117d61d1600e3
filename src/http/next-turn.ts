/**
 * Resolves after the event loop has served what is waiting (I/O, other requests): what a large
 * body's work awaits between slices (DESIGN §6: no request waits over 10 ms for another).
 */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
