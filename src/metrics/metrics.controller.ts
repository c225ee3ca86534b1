import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../access/auth.decorators.js';
import { MetricsService } from './metrics.service.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** Prometheus' text format. No API token (@Public): open, or METRICS_TOKEN (MetricsTokenGuard). */
  @Get()
  @Public()
  @UseGuards(MetricsTokenGuard)
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.render();
    res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' }).end(body);
  }
}
