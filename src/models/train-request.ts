/**
 * The training request as a job carries it. Payloads are versioned: a worker
 * refuses a payload version it does not know instead of misreading it.
 */
import type { ObjectiveName, TrainParams } from '../gbdt/index.js';

/** The payload format this code writes and reads. */
export const TRAIN_PAYLOAD_VERSION = 1;

/** How a time-series dataset is declared in a train request. */
export interface ForecastRequest {
  seriesKeys: string[];
  dateColumn: string;
  /** Default 7. */
  horizon?: number;
  /** Default [1, 2, 3, 7, 14] (observations). */
  lags?: number[];
  /** Default [7, 28] (observations). */
  windows?: number[];
  /** Default from the data's spacing: 7 for daily, 52 weekly, 12 monthly, 24 hourly, else 1. */
  seasonLength?: number;
}

/** `POST /v1/models` body. */
export interface TrainRequest {
  name: string;
  dataset: string;
  target: string;
  features?: string[];
  objective: ObjectiveName;
  params?: TrainParams;
  forecast?: ForecastRequest;
}

/** What a queued training job holds: always its tenant and the payload version. */
export interface TrainJobPayload {
  payloadVersion: typeof TRAIN_PAYLOAD_VERSION;
  tenantId: string;
  jobId: string;
  request: TrainRequest;
}
