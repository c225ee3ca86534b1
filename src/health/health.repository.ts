import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The two questions readiness asks of the database. */
@Injectable()
export class HealthRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /** True while some migration is not applied yet. */
  hasPendingMigrations(): Promise<boolean> {
    return this.dataSource.showMigrations();
  }
}
