/** Starts tenantml: config → platform → HTTP, and shuts down cleanly on SIGINT/SIGTERM. */
import { mkdirSync } from 'node:fs';
import { loadConfigOrReport } from './config.js';
import { buildApp } from './http/app.js';
import { createPlatform } from './platform.js';
import { tuneForServing } from './serving-process.js';

async function main(): Promise<void> {
  const config = loadConfigOrReport();
  if (config === undefined) process.exit(2);
  tuneForServing(config);
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const platform = await createPlatform(config, { processMetrics: true });
  const app = await buildApp(platform);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const lines = [
    '',
    `tenantml is listening on http://${shownHost}:${port}`,
    `  database: ${config.databaseUrl ? 'PostgreSQL server' : `embedded PGlite in ${config.dataDir}`}`,
    `  docs:     http://${shownHost}:${port}/docs`,
  ];
  if (platform.generatedOperatorKey) {
    lines.push(
      '',
      `  operator key (shown once, store it now): ${platform.generatedOperatorKey}`,
      '  set TENANTML_ADMIN_KEY to choose your own instead.',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  for (const failure of platform.warmFailures) app.log.warn(failure, 'could not warm model');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await platform.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tenantml failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
