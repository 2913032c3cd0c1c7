import type { Column } from './column-types.js';

/** A tenant dataset as the API describes it. */
export interface Dataset {
  id: string;
  name: string;
  columns: Column[];
  rowCount: number;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetRow {
  id: string;
  name: string;
  columns: Column[];
  row_count: number | string;
  size_bytes: number | string;
  upload_seq: number | string;
  created_at: Date;
  updated_at: Date;
}

export function datasetFromRow(r: DatasetRow): Dataset {
  return {
    id: r.id,
    name: r.name,
    columns: r.columns,
    rowCount: Number(r.row_count),
    sizeBytes: Number(r.size_bytes),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isValidDatasetName(name: string): boolean {
  return DATASET_NAME.test(name);
}
