import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Principal } from '../../access/roles.js';
import { SwitchyardException } from '../../common/errors/switchyard.exception.js';
import { DeliveryHttpHandler } from '../../delivery/delivery-http.handler.js';
import { PreparedBody, writePrepared } from '../../delivery/prepared-body.js';
import { clientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';
import { levelOfHeader } from './unleash-constraints.js';
import { type PublishedView, UnleashFeaturesService } from './unleash-features.service.js';
import { UnleashStreamHub } from './unleash-stream-hub.service.js';

/** The body depends on the SDK's declared client specification (unleash-constraints.ts). */
const VARY = 'unleash-client-spec';

/**
 * GET /api/client/features and /api/client/streaming, the endpoints official Unleash SDKs (Go,
 * Java, Node, Python...) poll and stream, answered on the SDK's fast path (DeliveryHttpHandler:
 * before Express, with the same token check, request id, errors and shutdown behaviour as
 * /sdk/v1): prepared bodies per client level, ETag / 304 and compression as for the snapshot.
 * The SDK's URL is `<switchyard>/api/` with an `sdk` token in `Authorization`, with or without
 * `Bearer ` (official SDKs send it bare). POST register and metrics stay in
 * UnleashClientApiController (they carry JSON bodies, once a minute per SDK).
 *
 * Registered with DeliveryHttpHandler through ModuleRef, not by importing DeliveryModule: see
 * UnleashFeaturesService.onModuleInit for why.
 */
@Injectable()
export class UnleashHttpRoutes implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly features: UnleashFeaturesService,
    private readonly hub: UnleashStreamHub,
    private readonly registry: UnleashClientRegistry,
  ) {}

  onModuleInit(): void {
    const delivery = this.moduleRef.get(DeliveryHttpHandler, { strict: false });
    delivery.route({ path: '/api/client/features', bareToken: true, serve: (req, res, principal, requestId) => this.getFeatures(req, res, principal, requestId) });
    delivery.route({
      path: '/api/client/streaming',
      bareToken: true,
      serve: (req, res, principal, requestId) => {
        res.setHeader('x-request-id', requestId);
        this.hub.open(req, res, this.currentOrUnavailable(), clientHeaders(req, principal.name), principal);
      },
    });
  }

  /**
   * Every slice as a toggle, in the form the SDK's declared client specification evaluates
   * exactly (else the conservative one). `namePrefix` filters as in Unleash; `project` and `tag`
   * are not used (one project).
   */
  private getFeatures(req: IncomingMessage, res: ServerResponse, principal: Principal, requestId: string): void {
    const toggles = this.currentOrUnavailable().toggles(levelOfHeader(req.headers['unleash-client-spec']));
    this.registry.recordServed(clientHeaders(req, principal.name), toggles.revision);
    const namePrefix = namePrefixOf(req.url);
    if (namePrefix === null) {
      writePrepared(req, res, toggles.prepared, toggles.etag, { vary: VARY, requestId });
      return;
    }
    // Filtered bodies are rare: serialized (and compressed, if asked) per request.
    writePrepared(req, res, new PreparedBody(this.features.filteredBody(toggles, namePrefix)), toggles.etag, { vary: VARY, requestId });
  }

  private currentOrUnavailable(): PublishedView {
    const view = this.features.current();
    if (view === null) {
      throw new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'No configuration loaded yet (the database has been unreachable since start); retry shortly.');
    }
    return view;
  }
}

/** The `namePrefix` query parameter, or null when absent or empty. */
function namePrefixOf(url: string | undefined): string | null {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return null;
  const value = new URLSearchParams(url!.slice(query + 1)).get('namePrefix');
  return value === null || value === '' ? null : value;
}
