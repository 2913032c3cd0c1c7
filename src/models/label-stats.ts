/**
 * Summary of a dataset's target column, computed in the database so a train
 * request can be refused at submit time (too few rows, labels the objective
 * cannot learn) without reading every row into the process. Tenant-scoped.
 */
import type { Db } from '../db/db.js';

/** Counts and range of a numeric target column. */
export interface LabelStats {
  rows: number;
  /** Rows with a numeric (non-missing) label. */
  labelled: number;
  min: number | null;
  max: number | null;
  /** Labelled rows whose label is neither 0 nor 1. */
  nonBinary: number;
  /** Labelled rows whose label is outside [0, 1]. */
  outsideUnit: number;
}

/** Label statistics of column `columnIndex` of the tenant's dataset `datasetId` (committed uploads only). */
export async function labelStats(db: Db, tenantId: string, datasetId: string, columnIndex: number): Promise<LabelStats> {
  const res = await db.withTenant(tenantId, (tx) =>
    tx.query<{ rows: number; labelled: number; min: number | null; max: number | null; non_binary: number; outside_unit: number }>(
      `select count(*)::int as rows, count(v)::int as labelled, min(v) as min, max(v) as max,
              count(*) filter (where v <> 0 and v <> 1)::int as non_binary,
              count(*) filter (where v < 0 or v > 1)::int as outside_unit
         from (select case jsonb_typeof(r."values" -> $2::int)
                        when 'number' then (r."values" ->> $2::int)::float8
                        when 'boolean' then case when (r."values" ->> $2::int) = 'true' then 1 else 0 end
                      end as v
                 from dataset_rows r
                 join dataset_uploads u on u.tenant_id = r.tenant_id and u.id = r.upload_id
                where r.dataset_id = $1 and u.state = 'committed') s`,
      [datasetId, columnIndex],
    ),
  );
  const r = res.rows[0]!;
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    rows: Number(r.rows),
    labelled: Number(r.labelled),
    min: num(r.min),
    max: num(r.max),
    nonBinary: Number(r.non_binary),
    outsideUnit: Number(r.outside_unit),
  };
}
