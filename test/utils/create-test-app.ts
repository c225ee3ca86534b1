import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory.js';
import { type AppConfig, loadConfig } from '../../src/config/env.js';
import type { Clock } from '../../src/common/scheduling/clock.js';
import { checkpointEnv } from './checkpoint-key.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { GraphqlClient } from './graphql-client.js';

export const ADMIN_TOKEN = 'sy_test_admin_token_0123456789abcdef';

export interface TestApp {
  readonly app: INestApplication;
  readonly baseUrl: string;
  readonly config: AppConfig;
  readonly database: TestDatabase;
  readonly dataSource: DataSource;
  /** GraphQL over real HTTP as the bootstrap admin. */
  readonly admin: GraphqlClient;
  /** A client with a token of its own (create one with `tokenFor`). */
  as(token: string | null): GraphqlClient;
  /** Creates a token with this role and returns its secret. */
  tokenFor(role: 'admin' | 'release-manager' | 'incident-responder' | 'viewer' | 'sdk', name?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real service, on a real port, over a fresh database (see createTestDatabase), configured
 * as `npm start` configures it (createApp), logs silenced.
 */
export interface CreateTestAppOptions {
  /**
   * Run on this database instead of a fresh one: a second instance of the service over the same
   * PostgreSQL database. The database is then dropped by whoever created it, not by this app.
   */
  readonly shareDatabaseOf?: TestApp;
  /**
   * The URL the service connects with, made from its database's URL: e.g. the same database
   * through a TcpProxy, to break the network between the service and PostgreSQL.
   */
  readonly databaseUrlVia?: (url: string) => string;
  /** The service's clock (test/utils/manual-clock.ts), instead of the system's. */
  readonly clock?: Clock;
}

export async function createTestApp(env: Record<string, string> = {}, options: CreateTestAppOptions = {}): Promise<TestApp> {
  const shared = options.shareDatabaseOf?.database;
  if (shared !== undefined && shared.url === null) throw new Error('only a PostgreSQL database can be shared by two instances');
  const database: TestDatabase = shared !== undefined ? { ...shared, drop: async () => {} } : await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    SWITCHYARD_DATA_DIR: 'memory:',
    SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    ...(database.url ? { DATABASE_URL: options.databaseUrlVia?.(database.url) ?? database.url } : {}),
    ...checkpointEnv(database.url),
    ...env,
  });
  const app = await createApp(config, { logger: false, clock: options.clock });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const admin = new GraphqlClient(baseUrl, ADMIN_TOKEN);
  let tokenCount = 0;
  return {
    app,
    baseUrl,
    config,
    database,
    dataSource: app.get(DataSource),
    admin,
    as: (token) => new GraphqlClient(baseUrl, token),
    tokenFor: async (role, name = `${role}-${++tokenCount}-${Date.now()}`) => {
      const res = await admin.ok<{ createToken: { secret: string } }>('mutation($name: String!, $role: Role!) { createToken(name: $name, role: $role) { secret } }', {
        name,
        role: role.toUpperCase().replace('-', '_'),
      });
      return res.createToken.secret;
    },
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
