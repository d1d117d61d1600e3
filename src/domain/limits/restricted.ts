import type { Evaluator } from '../compiled-limit.js';

/** A restricted list: every order in scope scores 1 against a hard threshold of 0. */
export const evaluateRestricted: Evaluator = () => 1;
