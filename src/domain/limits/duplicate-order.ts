import type { Evaluator } from '../compiled-limit.js';
import { countInWindow } from './windows.js';

/** Accepted orders on the key with the same symbol, side, quantity and price in the window, this one included. */
export const evaluateDuplicateOrder: Evaluator = (limit, ctx) => countInWindow(limit, ctx);
