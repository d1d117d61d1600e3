import type { AppConfig } from '../../config/schema.js';
import type { Clock } from '../../domain/clock.js';
import type { LimitEngine } from '../../domain/engine.js';
import type { Telemetry } from '../../telemetry/metrics.js';
import type { Tracing } from '../../telemetry/tracing.js';
import type { StoreGate } from '../durable-reply.js';
import type { HttpWarmUp } from '../warm-up.js';

/** What every route plugin is given by the composition root. */
export interface RouteDeps {
  readonly engine: LimitEngine;
  readonly config: AppConfig;
  readonly telemetry: Telemetry;
  /** The engine's clock: times the API reports or filters by must agree with the engine's. */
  readonly clock: Clock;
  readonly tracing: Tracing;
  /** Durability of state changes: routes that change state answer through it. */
  readonly store: StoreGate;
  /** The start-up warm-up of the HTTP path: its requests act on a scratch engine and registry. */
  readonly warmUp: HttpWarmUp;
}
