import 'reflect-metadata';
import { runAdminRecovery } from '../admin-recovery.command.js';

/** `npm run admin:recover -- --name <token name> --reason "<why>"`: see src/admin-recovery.command.ts. */
runAdminRecovery(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin:recover failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
