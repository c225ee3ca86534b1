import { ApiTokenEntity } from './auth/api-token.entity.js';
import { FreezeWindowEntity } from './freeze/freeze-window.entity.js';
import { HistoryEntity } from './history/history.entity.js';
import { IdempotencyKeyEntity } from './changes/idempotency-key.entity.js';
import { SegmentEntity, SliceSegmentEntity } from './segments/segment.entity.js';
import { SliceEntity } from './slices/slice.entity.js';

/** Every entity, listed explicitly: no glob loading under ES modules. */
export const ENTITIES = [SliceEntity, SegmentEntity, SliceSegmentEntity, HistoryEntity, ApiTokenEntity, IdempotencyKeyEntity, FreezeWindowEntity];
