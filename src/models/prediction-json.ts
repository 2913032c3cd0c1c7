/**
 * The predict answer, `{"predictions":[...],"model":{...}}`, as text: whole
 * for a JSON body, in pieces for a streamed batch. One formatter for every
 * place rows are predicted (a JSON body, a streamed batch on the event loop,
 * the batch threads), so all print every float32 identically: the shortest
 * decimal of the value, `null` for NaN and ±Infinity.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ServedBy } from './prediction-service.js';

/** Predictions serialised per piece when formatting on the event loop. */
const PIECE_VALUES = 8192;

/** The text before the first prediction. */
export const PREDICTIONS_HEAD = '{"predictions":[';

/** The text after the last prediction, naming the model that answered. */
export function predictionsTail(model: ServedBy): string {
  // Written out: on the single-row path, JSON.stringify walking this three-field object cost more than the rest of the text.
  return `],"model":{"name":${JSON.stringify(model.name)},"version":${model.version},"source":${JSON.stringify(model.source)}}}`;
}

/** `values` as comma-separated JSON numbers; `continues` prefixes a comma (the piece follows earlier predictions). */
export function predictionsText(values: ArrayLike<number>, continues: boolean): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = Number.isFinite(values[i]!) ? String(values[i]) : 'null';
  return (continues && values.length > 0 ? ',' : '') + parts.join(',');
}

/**
 * The whole answer as one string, for answers small enough to format at once
 * (JSON predict bodies): the streamed answer's text, without the walk over an
 * answer object `JSON.stringify` makes on every single-row request.
 */
export function predictionsAnswer(values: ArrayLike<number>, model: ServedBy): string {
  return PREDICTIONS_HEAD + predictionsText(values, false) + predictionsTail(model);
}

/** The whole answer in pieces, yielding between them: serialising a million numbers at once would block the loop. */
export async function* predictionsJson(values: Float32Array, model: ServedBy): AsyncIterable<string> {
  yield PREDICTIONS_HEAD;
  for (let at = 0; at < values.length; at += PIECE_VALUES) {
    yield predictionsText(values.subarray(at, Math.min(values.length, at + PIECE_VALUES)), at > 0);
    await yieldToLoop();
  }
  yield predictionsTail(model);
}
