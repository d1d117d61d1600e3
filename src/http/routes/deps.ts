import type { AppConfig } from '../../config/schema.js';
import type { LimitEngine } from '../../domain/engine.js';
import type { Telemetry } from '../../telemetry/metrics.js';

/** What every route plugin is given by the composition root. */
export interface RouteDeps {
  readonly engine: LimitEngine;
  readonly config: AppConfig;
  readonly telemetry: Telemetry;
}
