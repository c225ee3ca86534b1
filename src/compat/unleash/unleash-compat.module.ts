import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module.js';
import { TrafficModule } from '../../traffic/traffic.module.js';
import { UnleashAuthMiddleware } from './unleash-auth.middleware.js';
import { UnleashClientApiController } from './unleash-client-api.controller.js';
import { UnleashClientRegistry } from './unleash-client-registry.service.js';
import { UnleashFeaturesService } from './unleash-features.service.js';
import { UnleashHttpRoutes } from './unleash-http.routes.js';
import { UnleashStreamHub } from './unleash-stream-hub.service.js';

/**
 * The Unleash client protocol over Switchyard's snapshot: official Unleash SDKs follow slices.
 * Uses DeliveryModule's SnapshotService and DeliveryHttpHandler (the fast path, where its GET
 * endpoints are served) without importing DeliveryModule: see UnleashFeaturesService.onModuleInit
 * for why.
 */
@Module({
  imports: [AuthModule, TrafficModule],
  controllers: [UnleashClientApiController],
  providers: [UnleashFeaturesService, UnleashStreamHub, UnleashClientRegistry, UnleashAuthMiddleware, UnleashHttpRoutes],
  exports: [UnleashClientRegistry, UnleashFeaturesService, UnleashStreamHub],
})
export class UnleashCompatModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(UnleashAuthMiddleware).forRoutes(UnleashClientApiController);
  }
}
