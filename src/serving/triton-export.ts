/**
 * Writes a tenant's production models as a Triton FIL-backend model
 * repository: `<model>/config.pbtxt` and `<model>/1/xgboost.json` per model,
 * so the tenant can take its models to Triton. Binary classifiers export with
 * `predict_proba` (two FP32 columns: P(0), P(1)); every other objective as a
 * regressor on the response scale, like `/v1/.../predict`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deserializeModel, exportXgboostJson } from '../gbdt/index.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { exportTritonFilModel } from './triton-repository.js';

/** One exported model. */
export interface ExportedTritonModel {
  name: string;
  /** The tenant's production version it came from (Triton's version directory is always 1). */
  version: number;
  files: string[];
}

/** Exports every model of the tenant that has a production version into `outDir`. */
export async function exportTenantToTriton(registry: ModelRegistry, tenantId: string, outDir: string): Promise<ExportedTritonModel[]> {
  const exported: ExportedTritonModel[] = [];
  let cursor: string | undefined;
  do {
    const page = await registry.list(tenantId, 1000, cursor);
    for (const summary of page.models) {
      const version = summary.aliases.production;
      if (version === undefined) continue;
      const model = deserializeModel(await registry.readArtifact(tenantId, summary.name, version));
      const binary = model.objective.name === 'binary:logistic';
      const files = exportTritonFilModel({
        modelName: summary.name,
        numFeatures: model.numFeatures,
        xgboostJson: exportXgboostJson(model),
        outputClass: binary,
        ...(binary ? { predictProba: true, numClasses: 2 } : {}),
      });
      for (const file of files) {
        const path = join(outDir, file.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.contents);
      }
      exported.push({ name: summary.name, version, files: files.map((f) => f.path) });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return exported;
}
