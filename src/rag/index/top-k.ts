import type { SearchHit } from './vector-index.js';

/**
 * Keeps the k best (score, id) pairs seen, best first; ties go to the smaller
 * id so results are stable across runs and implementations.
 */
export class TopK {
  readonly ids: number[] = [];
  readonly scores: number[] = [];

  constructor(readonly k: number) {}

  /** The score a candidate must beat to enter (−Infinity while not full). */
  get threshold(): number {
    return this.ids.length < this.k ? Number.NEGATIVE_INFINITY : this.scores[this.k - 1]!;
  }

  /** Offers a candidate; insertion sort is fastest for the small k of retrieval. */
  push(id: number, score: number): void {
    if (this.k <= 0) return;
    const n = this.ids.length;
    if (n >= this.k && !better(score, id, this.scores[n - 1]!, this.ids[n - 1]!)) return;
    let i = n >= this.k ? n - 1 : n;
    while (i > 0 && better(score, id, this.scores[i - 1]!, this.ids[i - 1]!)) {
      this.scores[i] = this.scores[i - 1]!;
      this.ids[i] = this.ids[i - 1]!;
      i--;
    }
    this.scores[i] = score;
    this.ids[i] = id;
  }

  /** The hits, best first. */
  hits(): SearchHit[] {
    return this.ids.map((id, i) => ({ id, score: this.scores[i]! }));
  }
}

function better(score: number, id: number, otherScore: number, otherId: number): boolean {
  return score > otherScore || (score === otherScore && id < otherId);
}
