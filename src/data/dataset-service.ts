import { randomUUID } from 'node:crypto';
import type { Db, Tx } from '../db/db.js';
import { errors } from '../errors.js';
import { type Column, COLUMN_TYPES, isValidColumnName, type StoredValue } from './column-types.js';
import { type Dataset, type DatasetRow, datasetFromRow, isValidDatasetName } from './dataset.js';
import type { RawRow, RowSource } from './row-sources.js';
import { INFERENCE_SAMPLE_ROWS, inferColumns, validateRow } from './row-validator.js';

/** Rows per insert statement: large enough for throughput, small enough to keep transactions short. */
const INSERT_BATCH_ROWS = 5000;

export interface AppendResult {
  dataset: Dataset;
  rowsAdded: number;
}

/** Checks a tenant may store `bytes` more (the storage quota); throws when it may not. */
export type StorageGuard = (tenantId: string, addBytes: number) => Promise<void>;

export interface RowPage {
  columns: Column[];
  rows: Record<string, StoredValue>[];
  nextCursor: string | null;
}

/** Tenant datasets: create, describe, append rows all-or-nothing, read rows back. */
export class DatasetService {
  constructor(
    private readonly db: Db,
    private readonly storageGuard: StorageGuard = async () => {},
  ) {}

  /** Bytes of committed uploads the tenant stores (its datasets' share of the storage quota). */
  async bytesUsed(tenantId: string): Promise<number> {
    const res = await this.db.withTenant(tenantId, (tx) => tx.query<{ bytes: number | string }>('select coalesce(sum(size_bytes), 0) as bytes from datasets'));
    return Number(res.rows[0]?.bytes ?? 0);
  }

  async create(tenantId: string, name: string, columns?: Column[]): Promise<Dataset> {
    if (!isValidDatasetName(name)) throw errors.validation('name: 1-128 characters of letters, digits, _ . -, starting with a letter or digit');
    if (columns) checkColumns(columns);
    return this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<DatasetRow>(
        `insert into datasets (tenant_id, id, name, columns) values ($1, $2, $3, $4)
         on conflict (tenant_id, name) do nothing returning *`,
        [tenantId, `ds_${randomUUID().replaceAll('-', '')}`, name, JSON.stringify(columns ?? [])],
      );
      if (res.rowCount === 0) throw errors.conflict(`dataset '${name}' already exists`);
      return datasetFromRow(res.rows[0]!);
    });
  }

  async list(tenantId: string, limit: number, cursor?: string): Promise<{ datasets: Dataset[]; nextCursor: string | null }> {
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query<DatasetRow>('select * from datasets where ($1::text is null or name > $1) order by name limit $2', [cursor ?? null, limit + 1]),
    );
    const datasets = res.rows.slice(0, limit).map(datasetFromRow);
    return { datasets, nextCursor: res.rows.length > limit ? (datasets.at(-1)?.name ?? null) : null };
  }

  async describe(tenantId: string, name: string): Promise<Dataset> {
    return datasetFromRow(await this.db.withTenant(tenantId, (tx) => findDataset(tx, name)));
  }

  /**
   * Appends the rows of `source` all-or-nothing. Rows are validated and written in
   * short batches as the body streams in, under a pending upload that readers
   * ignore; the upload becomes visible in one final transaction, or is deleted
   * whole on the first bad row.
   */
  async appendRows(tenantId: string, name: string, source: RowSource): Promise<AppendResult> {
    const uploadId = `up_${randomUUID().replaceAll('-', '')}`;
    const dataset = await this.db.withTenant(tenantId, async (tx) => {
      const ds = await findDataset(tx, name);
      await tx.query(`insert into dataset_uploads (tenant_id, id, dataset_id, state) values ($1, $2, $3, 'pending')`, [
        tenantId,
        uploadId,
        ds.id,
      ]);
      return ds;
    });
    try {
      const rowsAdded = await this.writeRows(tenantId, dataset, uploadId, source);
      if (rowsAdded === 0) throw errors.validation('no rows in the body');
      const bytes = source.bytesRead();
      await this.storageGuard(tenantId, bytes);
      const committed = await this.db.withTenant(tenantId, async (tx) => {
        const res = await tx.query<DatasetRow>(
          `update datasets set upload_seq = upload_seq + 1, row_count = row_count + $2, size_bytes = size_bytes + $3, updated_at = now()
           where id = $1 returning *`,
          [dataset.id, rowsAdded, bytes],
        );
        const row = res.rows[0];
        if (!row) throw errors.notFound('dataset', name);
        await tx.query(
          `update dataset_uploads set state = 'committed', seq = $2, row_count = $3, size_bytes = $4, committed_at = now() where id = $1`,
          [uploadId, Number(row.upload_seq), rowsAdded, bytes],
        );
        return datasetFromRow(row);
      });
      return { dataset: committed, rowsAdded };
    } catch (err) {
      await this.discardUpload(tenantId, uploadId);
      throw err;
    }
  }

  private async writeRows(tenantId: string, dataset: DatasetRow, uploadId: string, source: RowSource): Promise<number> {
    let columns = dataset.columns;
    let index = new Map(columns.map((c, i) => [c.name, i]));
    let batch: StoredValue[][] = [];
    let sample: RawRow[] | null = columns.length === 0 ? [] : null;
    let written = 0;

    // One insert stays in flight while the next batch is parsed and validated, so
    // parsing (this process) and writing (the database) overlap.
    let inflight: Promise<unknown> = Promise.resolve();
    const flush = async () => {
      if (batch.length === 0) return;
      const rows = batch;
      const first = written;
      batch = [];
      written += rows.length;
      await inflight;
      inflight = this.db.withTenant(tenantId, (tx) =>
        tx.query(
          `insert into dataset_rows (tenant_id, dataset_id, upload_id, row_no, "values")
           select $1, $2, $3, $4 + t.ord::int, t.v from jsonb_array_elements($5::jsonb) with ordinality as t(v, ord)`,
          [tenantId, dataset.id, uploadId, first, JSON.stringify(rows)],
        ),
      );
      // Observed at the next await; this keeps a failure from being reported as unhandled meanwhile.
      inflight.catch(() => {});
    };
    const decideColumns = async (rows: RawRow[]) => {
      columns = inferColumns(rows, source.unit, source.textual);
      index = new Map(columns.map((c, i) => [c.name, i]));
      const fixed = await this.db.withTenant(tenantId, (tx) =>
        tx.query<{ columns: Column[] }>(
          `update datasets set columns = case when columns = '[]'::jsonb then $2::jsonb else columns end where id = $1 returning columns`,
          [dataset.id, JSON.stringify(columns)],
        ),
      );
      // Another upload may have fixed the columns first; validate against those.
      const actual = fixed.rows[0]?.columns;
      if (actual && JSON.stringify(actual) !== JSON.stringify(columns)) {
        columns = actual;
        index = new Map(columns.map((c, i) => [c.name, i]));
      }
      for (const r of rows) batch.push(validateRow(r, columns, index, source.unit, source.textual));
    };

    for await (const rows of source.rows) {
      for (const row of rows) {
        if (sample) {
          sample.push(row);
          if (sample.length >= INFERENCE_SAMPLE_ROWS) {
            await decideColumns(sample);
            sample = null;
          }
          continue;
        }
        batch.push(validateRow(row, columns, index, source.unit, source.textual));
        if (batch.length >= INSERT_BATCH_ROWS) await flush();
      }
    }
    if (sample && sample.length > 0) await decideColumns(sample);
    await flush();
    await inflight;
    return written;
  }

  private async discardUpload(tenantId: string, uploadId: string): Promise<void> {
    // The rows go with the upload (on delete cascade).
    await this.db.withTenant(tenantId, (tx) => tx.query('delete from dataset_uploads where id = $1', [uploadId]));
  }

  /** A page of committed rows, oldest first. The cursor is opaque to callers. */
  async readRows(tenantId: string, name: string, limit: number, cursor?: string): Promise<RowPage> {
    const after = parseCursor(cursor);
    return this.db.withTenant(tenantId, async (tx) => {
      const ds = await findDataset(tx, name);
      const res = await tx.query<{ seq: number; row_no: number; values: StoredValue[] }>(
        `select u.seq, r.row_no, r."values" from dataset_rows r
           join dataset_uploads u on u.tenant_id = r.tenant_id and u.id = r.upload_id
          where r.dataset_id = $1 and u.state = 'committed' and (u.seq, r.row_no) > ($2, $3)
          order by u.seq, r.row_no limit $4`,
        [ds.id, after.seq, after.rowNo, limit + 1],
      );
      const page = res.rows.slice(0, limit);
      const last = page.at(-1);
      return {
        columns: ds.columns,
        rows: page.map((r) => Object.fromEntries(ds.columns.map((c, i) => [c.name, r.values[i] ?? null]))),
        nextCursor: res.rows.length > limit && last ? `${Number(last.seq)}.${last.row_no}` : null,
      };
    });
  }

  /**
   * Every committed row in column order, read in pages of short transactions up to
   * the uploads committed when the read began (a consistent snapshot for training).
   */
  async readAll(tenantId: string, name: string, pageRows = 20_000): Promise<{ dataset: Dataset; rows: StoredValue[][] }> {
    const { ds, maxSeq } = await this.db.withTenant(tenantId, async (tx) => {
      const found = await findDataset(tx, name);
      return { ds: found, maxSeq: Number(found.upload_seq) };
    });
    const rows: StoredValue[][] = [];
    let after = { seq: 0, rowNo: -1 };
    for (;;) {
      const res = await this.db.withTenant(tenantId, (tx) =>
        tx.query<{ seq: number; row_no: number; values: StoredValue[] }>(
          `select u.seq, r.row_no, r."values" from dataset_rows r
             join dataset_uploads u on u.tenant_id = r.tenant_id and u.id = r.upload_id
            where r.dataset_id = $1 and u.state = 'committed' and u.seq <= $2 and (u.seq, r.row_no) > ($3, $4)
            order by u.seq, r.row_no limit $5`,
          [ds.id, maxSeq, after.seq, after.rowNo, pageRows],
        ),
      );
      for (const r of res.rows) rows.push(r.values);
      const last = res.rows.at(-1);
      if (!last || res.rows.length < pageRows) break;
      after = { seq: Number(last.seq), rowNo: last.row_no };
    }
    return { dataset: datasetFromRow(ds), rows };
  }
}

async function findDataset(tx: Tx, name: string): Promise<DatasetRow> {
  const res = await tx.query<DatasetRow>('select * from datasets where name = $1', [name]);
  const row = res.rows[0];
  if (!row) throw errors.notFound('dataset', name);
  return row;
}

function checkColumns(columns: Column[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (!isValidColumnName(c.name)) throw errors.validation(`columns[${i}].name: '${c.name}' is not a valid column name`);
    if (!COLUMN_TYPES.includes(c.type)) throw errors.validation(`columns[${i}].type: expected one of ${COLUMN_TYPES.join(', ')}`);
    if (seen.has(c.name)) throw errors.validation(`columns[${i}].name: '${c.name}' appears twice`);
    seen.add(c.name);
  });
}

function parseCursor(cursor: string | undefined): { seq: number; rowNo: number } {
  if (!cursor) return { seq: 0, rowNo: -1 };
  const m = /^(\d+)\.(\d+)$/.exec(cursor);
  if (!m) throw errors.validation('cursor: not a cursor returned by this API');
  return { seq: Number(m[1]), rowNo: Number(m[2]) };
}
