/**
 * Worker-thread entry of the model-load pool (loaded by piscina): verifies and
 * compiles one artifact; the compiled layout's buffers are moved, not copied,
 * back to the event loop.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { transferablesOf } from '../gbdt/index.js';
import { type ModelLoadResult, type ModelLoadTask, runModelLoadTask } from './model-load-task.js';

/** Loads one model; the result's typed-array buffers are transferred. */
export default function loadInWorker(task: ModelLoadTask): unknown {
  const result: ModelLoadResult = runModelLoadTask(task);
  if (!result.ok) return result;
  return move({ [transferableSymbol]: transferablesOf(result.compiled), [valueSymbol]: result });
}
