import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { checkpointJson, type HistoryCheckpoint } from './proof/history-checkpoint.js';

/** A webhook gets this long to answer; it never holds anything else up meanwhile. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * Publishes each checkpoint outside the database, where whoever can write to the database cannot
 * reach it: one structured log line (always; ship the log elsewhere), one JSON line appended to
 * SWITCHYARD_CHECKPOINT_FILE, and a POST to SWITCHYARD_CHECKPOINT_WEBHOOK_URL. A sink that fails
 * is logged and skipped; nothing here throws.
 */
@Injectable()
export class CheckpointPublisher {
  private readonly logger = new Logger(CheckpointPublisher.name);
  private readonly webhooks = new Set<Promise<void>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async publish(checkpoint: HistoryCheckpoint): Promise<void> {
    this.logger.log({ msg: 'history checkpoint', checkpoint });
    if (this.config.checkpointWebhookUrl !== null) this.post(this.config.checkpointWebhookUrl, checkpoint);
    if (this.config.checkpointFile !== null) {
      try {
        await appendLine(this.config.checkpointFile, checkpointJson(checkpoint));
      } catch (error) {
        this.logger.error({ msg: 'history checkpoint not written to its file', file: this.config.checkpointFile, position: checkpoint.position, error: String(error) });
      }
    }
  }

  /** Waits for the webhook calls in flight (each is bounded by WEBHOOK_TIMEOUT_MS): at shutdown, and in tests. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.webhooks]);
  }

  private post(url: string, checkpoint: HistoryCheckpoint): void {
    const call = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'switchyard-checkpoints' },
      body: checkpointJson(checkpoint),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    }).then(
      async (response) => {
        await response.body?.cancel();
        if (!response.ok) this.logger.warn({ msg: 'history checkpoint webhook refused it', status: response.status, position: checkpoint.position });
      },
      (error: unknown) => this.logger.warn({ msg: 'history checkpoint webhook failed', position: checkpoint.position, error: String(error) }),
    );
    this.webhooks.add(call);
    void call.finally(() => this.webhooks.delete(call));
  }
}

/** Appends one line and flushes it to the disk before returning: a crash must not lose a checkpoint it said it published. */
async function appendLine(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'a', 0o644);
  try {
    await file.appendFile(`${line}\n`, 'utf8');
    await file.datasync();
  } finally {
    await file.close();
  }
}
