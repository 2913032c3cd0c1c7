/**
 * Memory of dropped cache entries, kept for the next load: search indexes
 * (`NamespaceIndexes`) and compiled model layouts (`model-serving.ts`). A cold
 * load reads a few hundred KB to a few MB (2,000 vectors of 384 floats are
 * 3 MB; a 100-tree model's layout 290 KB); V8 counts such buffers as external
 * memory and starts a full mark-compact every 64 MB of them, so loading into
 * fresh buffers meant a major GC every dozen cold queries, measured as most of
 * the cold p99, and fresh memory is page-faulted in by the read itself. A
 * buffer comes back here only once its entry has left the cache and nothing
 * holds it, so its next owner is the only one to see it.
 */

/** Buffers larger than the request by more than this share are not handed out (the slack would be memory counted nowhere useful). */
const MAX_SLACK = 0.25;
/** New buffers are rounded up to this, so sizes that differ by a few chunks still fit each other's buffers. */
const GRANULE = 64 * 1024;

export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  #freeBytes = 0;
  #reused = 0;
  #allocated = 0;

  constructor(readonly maxBytes: number) {}

  /** `size` bytes: a view on a pooled buffer that fits, else on a new one. */
  take(size: number): Uint8Array<ArrayBuffer> {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const capacity = this.#free[i]!.byteLength;
      if (capacity >= size && capacity <= size * (1 + MAX_SLACK) + GRANULE && (best < 0 || capacity < this.#free[best]!.byteLength)) best = i;
    }
    if (best >= 0) {
      const [buffer] = this.#free.splice(best, 1);
      this.#freeBytes -= buffer!.byteLength;
      this.#reused++;
      return new Uint8Array(buffer!, 0, size);
    }
    this.#allocated++;
    return new Uint8Array(new ArrayBuffer(Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE), 0, size);
  }

  /** Takes a buffer back for reuse; the caller guarantees nothing reads or writes it any more. Beyond `maxBytes`, the oldest go to the GC. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > this.maxBytes) return; // an empty one is shared, never anyone's memory
    this.#free.push(buffer);
    this.#freeBytes += buffer.byteLength;
    while (this.#freeBytes > this.maxBytes) this.#freeBytes -= this.#free.shift()!.byteLength;
  }

  /** Pooled bytes and how many takes reused a buffer or allocated one. */
  stats(): { freeBytes: number; buffers: number; reused: number; allocated: number } {
    return { freeBytes: this.#freeBytes, buffers: this.#free.length, reused: this.#reused, allocated: this.#allocated };
  }
}
