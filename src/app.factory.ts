import 'reflect-metadata';
import type { Server } from 'node:http';
import { ConsoleLogger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import compression from 'compression';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { markNonUtf8Body } from './common/http/storable-body.js';
import { DeliveryHttpHandler } from './delivery/delivery-http.handler.js';
import { HttpMetrics } from './metrics/http-metrics.js';
import type { AppConfig } from './config/env.js';
import type { Clock } from './common/scheduling/clock.js';

export interface CreateAppOptions {
  /** Defaults to structured JSON logs (or text with LOG_FORMAT=text). `false` silences Nest. */
  readonly logger?: LoggerService | false;
  /** The system's clock unless given (tests move theirs by hand). */
  readonly clock?: Clock;
}

/**
 * Builds the application exactly as `main.ts` runs it (tests use this too, so what they test is
 * what runs): body limit, then init. Signals are main.ts's business.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication<Server>> {
  const logger = options.logger === undefined ? new ConsoleLogger({ json: config.logFormat === 'json', colors: config.logFormat === 'text' }) : options.logger;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.clock), {
    logger,
    // While draining on SIGTERM, new requests get 503 so a load balancer retries elsewhere.
    return503OnClosing: true,
    abortOnError: false,
  });
  // Nest's types leave `verify` out because Nest uses it for `rawBody`, which this app does not
  // enable; the options are handed to body-parser as they are (platform-express useBodyParser).
  app.useBodyParser('json', { limit: config.maxBodyBytes, verify: markNonUtf8Body } as { limit: number });
  // GraphQL answers compressed when the client accepts it: a console list of 1,000 slices is 340 KB
  // of JSON, 30-40 KB gzipped (npm run bench:console). GraphQL only: SDK delivery compresses its own
  // prepared bodies, and event streams must not be buffered by a compressor.
  // (originalUrl: the filter runs when the answer starts, after Apollo's router has cut its mount path off req.path.)
  app.use(compression({ filter: (req, res) => req.originalUrl.split('?')[0] === '/graphql' && compression.filter(req, res) }));
  await app.init();
  // SDK delivery answers before Express (see DeliveryHttpHandler for why).
  app.get(DeliveryHttpHandler).install(app.getHttpServer());
  // Every request counted and timed, delivery's included: first in line, so installed after it.
  app.get(HttpMetrics).install(app.getHttpServer());
  return app;
}
