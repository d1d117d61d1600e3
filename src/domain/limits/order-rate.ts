import type { Evaluator } from '../compiled-limit.js';
import { countInWindow } from './windows.js';

/** Accepted orders on the key in the trailing window, this one included. */
export const evaluateOrderRate: Evaluator = (limit, ctx) => countInWindow(limit, ctx);
