import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Latency histogram buckets, in seconds: from an SDK snapshot answered from memory (well under a
 * millisecond) to a mutation stuck behind the append lock (seconds).
 */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Owns this application instance's Prometheus registry, which every recorder in src/metrics/
 * registers its metrics in, and renders it for GET /metrics.
 *
 * One registry per app, never prom-client's global `register`: tests run several apps in one
 * process, and each must count only its own requests (a second registration of a name in the
 * global registry would even throw). prom-client's default process and Node.js metrics
 * (`process_*`, `nodejs_*`, without our prefix, as dashboards expect them) go here too.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format: every metric, gauges sampled now. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
