/**
 * `tenantml export triton --tenant <id> --out <dir>`: writes the tenant's
 * production models as a Triton FIL model repository (see
 * `src/serving/triton-export.ts`). Reads the configured database and artifact
 * store; trains nothing, serves nothing.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { createPlatform } from '../platform.js';
import { exportTenantToTriton } from '../serving/triton-export.js';

export const EXPORT_USAGE = 'usage: tenantml export triton --tenant <id> --out <dir>\n';

/** Parses the arguments after `export`; returns the exit code. */
export async function runExport(config: Readonly<Config>, args: string[]): Promise<number> {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const tenantId = flag('tenant');
  const out = flag('out');
  if (args[0] !== 'triton' || !tenantId || !out) {
    process.stderr.write(EXPORT_USAGE);
    return 2;
  }
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const platform = await createPlatform({ ...config, models: { ...config.models, trainingWorkers: 0 }, serving: { ...config.serving, warm: [] } });
  try {
    await platform.tenants.get(tenantId); // 404 → a clear message instead of an empty repository
    const dir = resolve(out);
    const models = await exportTenantToTriton(platform.models.registry, tenantId, dir);
    for (const m of models) process.stdout.write(`${m.name} (version ${m.version}) → ${dir}/${m.name}\n`);
    process.stdout.write(`${models.length} model(s) written as a Triton FIL model repository in ${dir}\n`);
    return 0;
  } finally {
    await platform.close();
  }
}
