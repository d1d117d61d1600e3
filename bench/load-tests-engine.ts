/**
 * An engine on the load tests' world, made as the service makes one, from this build's modules
 * or another checkout's: the benches that compare builds on that state (bench:load-state,
 * bench:cold) build their sides with it.
 */
import * as thisApp from '../src/app.js';
import * as thisSchema from '../src/config/schema.js';
import * as thisClock from '../src/domain/clock.js';
import * as thisEngine from '../src/domain/engine.js';
import type { LimitDefinition } from '../src/domain/limit-definition.js';
import type { PositionRow } from '../src/domain/orders.js';
import type { World } from '../load-tests/world.js';
import { fromBuild } from './other-build.js';

/** The modules an engine is made with. */
export interface EngineBuild {
  app: typeof thisApp;
  schema: typeof thisSchema;
  clock: typeof thisClock;
  engine: typeof thisEngine;
}

export const THIS_ENGINE_BUILD: EngineBuild = { app: thisApp, schema: thisSchema, clock: thisClock, engine: thisEngine };

/** Another checkout's modules (after its `npx tsc -p tsconfig.bench.json`). */
export async function engineBuildOf(checkout: string): Promise<EngineBuild> {
  const load = (file: string): Promise<unknown> => fromBuild(checkout, file);
  return {
    app: (await load('src/app.js')) as typeof thisApp,
    schema: (await load('src/config/schema.js')) as typeof thisSchema,
    clock: (await load('src/domain/clock.js')) as typeof thisClock,
    engine: (await load('src/domain/engine.js')) as typeof thisEngine,
  };
}

/**
 * The world's book (the limits `keep` keeps), reference prices and positions, on the system
 * clock, durability off; the limits it was given come back with it.
 */
export function loadTestsEngine(
  build: EngineBuild,
  world: World,
  keep: (limit: LimitDefinition) => boolean = () => true,
): { engine: thisEngine.LimitEngine; limits: number } {
  const config = build.schema.AppConfigSchema.parse(world.config({ durability: 'off' }));
  const limits = config.limits.filter(keep);
  const engine = new build.engine.LimitEngine(build.app.engineConfigOf(config), build.clock.systemClock, limits);
  engine.setReferencePrices(world.marketData().prices);
  // The load tests send these rows over HTTP, where the route's schema checks them.
  engine.applyPositions(world.positions().positions as PositionRow[], true);
  return { engine, limits: limits.length };
}
