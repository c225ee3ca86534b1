import { CreateControlPlane1764000000000 } from './1764000000000-CreateControlPlane.js';
import { CreateTraffic1764100000000 } from './1764100000000-CreateTraffic.js';
import { IndexIdempotencyAge1764200000000 } from './1764200000000-IndexIdempotencyAge.js';
import { HistoryPositionsAndCheckpoints1764600000000 } from './1764600000000-HistoryPositionsAndCheckpoints.js';
import { UnleashClientSpec1764710000000 } from './1764710000000-UnleashClientSpec.js';
import { SdkInstanceGoodbye1764810000000 } from './1764810000000-SdkInstanceGoodbye.js';
import { ConsoleSessions1764900000000 } from './1764900000000-ConsoleSessions.js';
import { SliceObservation1765000000000 } from './1765000000000-SliceObservation.js';
import { CreateOutcomes1765100000000 } from './1765100000000-CreateOutcomes.js';
import { CreatePlans1765200000000 } from './1765200000000-CreatePlans.js';
import { CreateFreezeWindows1765300000000 } from './1765300000000-CreateFreezeWindows.js';
import { CreateInstanceOutcomes1765400000000 } from './1765400000000-CreateInstanceOutcomes.js';
import { SliceRolledBackSegments1765500000000 } from './1765500000000-SliceRolledBackSegments.js';
import { IndexPlanHistory1765600000000 } from './1765600000000-IndexPlanHistory.js';
import { CreateSegmentCoverage1765700000000 } from './1765700000000-CreateSegmentCoverage.js';

/** Every migration, oldest first. Listed explicitly: no glob loading under ES modules. */
export const MIGRATIONS = [
  CreateControlPlane1764000000000,
  CreateTraffic1764100000000,
  IndexIdempotencyAge1764200000000,
  HistoryPositionsAndCheckpoints1764600000000,
  UnleashClientSpec1764710000000,
  SdkInstanceGoodbye1764810000000,
  ConsoleSessions1764900000000,
  SliceObservation1765000000000,
  CreateOutcomes1765100000000,
  CreatePlans1765200000000,
  CreateFreezeWindows1765300000000,
  CreateInstanceOutcomes1765400000000,
  SliceRolledBackSegments1765500000000,
  IndexPlanHistory1765600000000,
  CreateSegmentCoverage1765700000000,
];
