/** One fused result: the id, its RRF score and its 1-based rank in each input list (undefined where absent). */
export interface FusedHit<Id extends string | number> {
  id: Id;
  score: number;
  ranks: Array<number | undefined>;
}

/** The RRF constant from Cormack et al. (2009); damps the weight of the very top ranks. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_i(d)) over the lists that
 * contain d. Only ranks matter, so cosine and ts_rank scores need no
 * calibration. Ties break by best single rank, then by earlier list, then by id,
 * so the order is stable across runs.
 */
export function reciprocalRankFusion<Id extends string | number>(
  lists: ReadonlyArray<ReadonlyArray<{ id: Id }>>,
  options: { k?: number; limit?: number } = {},
): FusedHit<Id>[] {
  const k = options.k ?? RRF_K;
  const fused = new Map<Id, FusedHit<Id>>();
  lists.forEach((list, li) => {
    const seen = new Set<Id>();
    list.forEach((item, position) => {
      if (seen.has(item.id)) return; // a list naming an id twice counts it once, at its best rank
      seen.add(item.id);
      let hit = fused.get(item.id);
      if (!hit) {
        hit = { id: item.id, score: 0, ranks: lists.map(() => undefined) };
        fused.set(item.id, hit);
      }
      hit.ranks[li] = position + 1;
      hit.score += 1 / (k + position + 1);
    });
  });
  const out = [...fused.values()].sort((a, b) => b.score - a.score || compareRanks(a.ranks, b.ranks) || compareIds(a.id, b.id));
  return options.limit === undefined ? out : out.slice(0, options.limit);
}

/** Best single rank first, then the list it came from (earlier lists win). */
function compareRanks(a: Array<number | undefined>, b: Array<number | undefined>): number {
  const best = (r: Array<number | undefined>) => {
    let rank = Number.POSITIVE_INFINITY;
    let list = r.length;
    r.forEach((x, i) => {
      if (x !== undefined && x < rank) [rank, list] = [x, i];
    });
    return [rank, list] as const;
  };
  const [ra, la] = best(a);
  const [rb, lb] = best(b);
  return ra - rb || la - lb;
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
