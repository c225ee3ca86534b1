import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Requires } from '../auth/auth.decorators.js';
import { Permission } from '../auth/roles.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { type PublishedSnapshot, SnapshotService } from './snapshot.service.js';
import { StreamHub } from './stream-hub.service.js';

/** What SDKs read: client-sdk/PROTOCOL.md. Served from memory, never from a query. */
@Controller('sdk/v1')
export class DeliveryController {
  constructor(
    private readonly snapshots: SnapshotService,
    private readonly hub: StreamHub,
  ) {}

  @Get('snapshot')
  @Requires(Permission.READ_CONFIG)
  snapshot(@Req() req: Request, @Res() res: Response): void {
    const snapshot = this.currentOrUnavailable();
    if (matchesEtag(req.header('if-none-match'), snapshot.etag)) {
      res.writeHead(304, { etag: snapshot.etag, 'cache-control': 'no-cache' }).end();
      return;
    }
    res
      .writeHead(200, {
        etag: snapshot.etag,
        'cache-control': 'no-cache',
        'content-type': 'application/json; charset=utf-8',
        'content-length': snapshot.body.length,
      })
      .end(snapshot.body);
  }

  @Get('stream')
  @Requires(Permission.READ_CONFIG)
  stream(@Req() req: Request, @Res() res: Response): void {
    this.hub.open(req, res, this.currentOrUnavailable());
  }

  private currentOrUnavailable(): PublishedSnapshot {
    const snapshot = this.snapshots.current();
    if (snapshot === null) {
      throw new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'No configuration loaded yet (the database has been unreachable since start); retry shortly.');
    }
    return snapshot;
  }
}

/** If-None-Match: a list of (possibly weak) ETags, or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
