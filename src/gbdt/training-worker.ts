/**
 * Worker-thread entry of the training pool (loaded by piscina). The artifact
 * buffer is moved, not copied, back to the caller.
 */
import { move } from 'piscina';
import { runTrainingTask, type TrainingTask, type TrainingTaskResult } from './training-task.js';

/** Trains one model; the result's artifact buffer is transferred. */
export default function trainInWorker(task: TrainingTask): TrainingTaskResult {
  const result = runTrainingTask(task);
  if (result.ok) move(result.artifact.buffer as ArrayBuffer);
  return result;
}
