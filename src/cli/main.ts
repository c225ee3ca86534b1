#!/usr/bin/env node
import { run } from './program.js';

// The `switchyard` bin (package.json). `process.exitCode` rather than `process.exit()`, so
// output piped to another program is flushed in full before the process ends.
process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
