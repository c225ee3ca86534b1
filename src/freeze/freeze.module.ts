import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { FreezeGuard } from './freeze-guard.js';
import { FreezeWindowsRepository } from './freeze-windows.repository.js';
import { FreezeWindowsResolver } from './freeze-windows.resolver.js';
import { FreezeWindowsService } from './freeze-windows.service.js';
import { SliceFreezeResolver } from './slice-freeze.resolver.js';

/** Freeze windows (docs/freeze-windows.md): their configuration, and the exposure guard they register with SlicesModule. */
@Module({
  imports: [ChangesModule, SlicesModule],
  providers: [FreezeWindowsRepository, FreezeWindowsService, FreezeWindowsResolver, SliceFreezeResolver, FreezeGuard],
  exports: [FreezeWindowsService],
})
export class FreezeModule {}
