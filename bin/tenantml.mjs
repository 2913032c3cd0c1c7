#!/usr/bin/env node
// The `tenantml` command. The project runs from TypeScript sources, and Node 20
// gives worker threads (training) the tsx loader only when it is on the command
// line, so this re-runs src/cli/main.ts under `node --import tsx`. The child
// keeps an IPC channel to this process and exits the moment it disappears, so
// killing `tenantml` kills the command (as a crash: nothing is cleaned up).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)], {
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
