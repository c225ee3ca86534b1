import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request with the fields this service attaches. */
export interface SwitchyardRequest extends Request {
  requestId?: string;
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
 * echoes it in the response and lets logs and history rows carry it.
 */
export function requestIdMiddleware(req: SwitchyardRequest, res: Response, next: NextFunction): void {
  req.requestId = requestIdFor(req.header('x-request-id'));
  res.setHeader('x-request-id', req.requestId);
  next();
}

/** The caller's request id when it is sane, else a new one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
