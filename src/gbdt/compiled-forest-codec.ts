/**
 * The compiled layout as bytes, so a cold load is a copy instead of a parse
 * and a compile (measured on a 100-tree model: JSON artifact 1.4 ms to parse
 * plus 0.4 ms to lay out; these bytes decode in well under 0.1 ms).
 *
 *   "TMLC" | u32 header length | JSON header | arrays, each 8-byte aligned
 *
 * The header names the artifact the layout was compiled from (its sha256), so
 * a layout is only ever used for the exact artifact the registry points at.
 * Integrity of the bytes themselves is the artifact store's envelope.
 */
import { AppError } from '../errors.js';
import type { CompiledForest } from './compiled-forest.js';
import { LINK_KINDS } from './objectives.js';
import { MAX_PACKED_DEPTH, type PackedReads } from './packed-walk.js';

const MAGIC = 'TMLC';
// 2: packed nodes for single rows (packed, packedLeaves, cuts, cutStart), no per-node `feature` (a leaf is `child < id`). A layout
// of version 1 is refused, so its model is compiled from the artifact once and its layout written again.
const VERSION = 2;

type ArrayField = 'roots' | 'treeDepth' | 'stepFeature' | 'threshold' | 'value' | 'child' | 'missLeft' | 'groupDepth' | 'catOffset' | 'catWords' | 'catBits' | 'packed' | 'packedLeaves' | 'cuts' | 'cutStart';
// Each array's element type, as the constructor that views it.
const VIEWS = { i32: Int32Array, f32: Float32Array, u8: Uint8Array, u16: Uint16Array, u32: Uint32Array } as const;
// Empty arrays (a numeric forest's three category arrays, an unpackable forest's packed nodes) are these, shared by
// every decoded layout: the views of a cached model live as long as it does, so V8 promotes each one made per cold load.
// Nothing can write to an empty array, and `transferablesOf` never moves an empty buffer.
const EMPTY = { i32: new Int32Array(0), f32: new Float32Array(0), u8: new Uint8Array(0), u16: new Uint16Array(0), u32: new Uint32Array(0) } as const;
const ARRAYS: ReadonlyArray<{ name: ArrayField; type: keyof typeof VIEWS }> = [
  { name: 'roots', type: 'i32' },
  { name: 'treeDepth', type: 'i32' },
  { name: 'stepFeature', type: 'i32' },
  { name: 'threshold', type: 'f32' },
  { name: 'value', type: 'f32' },
  { name: 'child', type: 'i32' },
  { name: 'missLeft', type: 'u8' },
  { name: 'groupDepth', type: 'i32' },
  { name: 'catOffset', type: 'i32' },
  { name: 'catWords', type: 'i32' },
  { name: 'catBits', type: 'u32' },
  { name: 'packed', type: 'u16' },
  { name: 'packedLeaves', type: 'f32' },
  { name: 'cuts', type: 'f32' },
  { name: 'cutStart', type: 'i32' },
];
const INDEX = Object.fromEntries(ARRAYS.map(({ name }, i) => [name, i])) as Record<ArrayField, number>;

interface Header {
  version: number;
  sourceSha256: string;
  numFeatures: number;
  link: CompiledForest['link'];
  /** The float64's bytes in hex: JSON would lose a negative zero. */
  baseMargin: string;
  hasCategorical: boolean;
  packedDepth: number;
  packedFeatureBits: number;
  lengths: number[];
}

const align8 = (n: number) => (n + 7) & ~7;

// Made once: a cold load decodes a layout on the request path.
const utf8 = new TextDecoder();

function refuse(why: string): AppError {
  return new AppError('internal', `compiled model layout refused: ${why}`);
}

/** Encodes `c`, compiled from the artifact whose sha256 is `sourceSha256`. */
export function encodeCompiledForest(c: CompiledForest, sourceSha256: string): Uint8Array {
  const header: Header = {
    version: VERSION,
    sourceSha256,
    numFeatures: c.numFeatures,
    link: c.link,
    baseMargin: Buffer.from(Float64Array.of(c.baseMargin).buffer).toString('hex'),
    hasCategorical: c.hasCategorical,
    packedDepth: c.packedDepth,
    packedFeatureBits: c.packedFeatureBits,
    lengths: ARRAYS.map(({ name }) => c[name].length),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  let size = align8(8 + headerBytes.length);
  for (const { name } of ARRAYS) size += align8(c[name].byteLength);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  let at = align8(8 + headerBytes.length);
  for (const { name } of ARRAYS) {
    const array = c[name];
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += align8(array.byteLength);
  }
  return out;
}

/** The header of the layout whose bytes start at `bytes[0]`, and its length; throws if it does not parse. */
function readHeader(bytes: Uint8Array): { header: Header; headerLength: number } {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  if (8 + headerLength > bytes.length) throw refuse('truncated header');
  try {
    return { header: JSON.parse(utf8.decode(bytes.subarray(8, 8 + headerLength))) as Header, headerLength };
  } catch {
    throw refuse('unreadable header');
  }
}

/** Where each array of a layout starting at `start` in its buffer begins, in bytes (each 8-byte aligned after the header). */
function arrayStarts(lengths: readonly number[], start: number, headerLength: number): number[] {
  const starts: number[] = [];
  let at = start + align8(8 + headerLength);
  for (const [i, { type }] of ARRAYS.entries()) {
    starts.push(at);
    at += align8(lengths[i]! * VIEWS[type].BYTES_PER_ELEMENT);
  }
  return starts;
}

/**
 * Decodes a layout, refusing one compiled from another artifact than
 * `expectedSourceSha256` or not in this format (callers fall back to
 * compiling the artifact). With `inPlace` (the caller owns `bytes`' buffer and
 * gives it up) the arrays view those bytes where they lie, if they start at an
 * 8-byte boundary; otherwise they are copied into a buffer of their own.
 */
export function decodeCompiledForest(bytes: Uint8Array, expectedSourceSha256: string, options: { inPlace?: boolean } = {}): DecodedForest {
  if (bytes.length < 8 || utf8.decode(bytes.subarray(0, 4)) !== MAGIC) throw refuse('not a compiled layout');
  // The arrays below must start at aligned offsets of a buffer this layout owns: one copy, unless these bytes are that.
  const own = options.inPlace === true && bytes.byteOffset % 8 === 0 ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const { header, headerLength } = readHeader(own);
  if (header.version !== VERSION) throw refuse(`format version ${header.version}`);
  if (header.sourceSha256 !== expectedSourceSha256) throw refuse('compiled from another artifact');
  const { lengths } = header;
  if (!LINK_KINDS.includes(header.link) || !Array.isArray(lengths) || lengths.length !== ARRAYS.length || !/^[0-9a-f]{16}$/.test(header.baseMargin)) {
    throw refuse('malformed header');
  }
  const starts = arrayStarts(lengths, own.byteOffset, headerLength);
  const end = own.byteOffset + own.length;
  let arrayBytes = 0;
  for (const [i, { name, type }] of ARRAYS.entries()) {
    const length = lengths[i]!;
    const bytesOfArray = length * VIEWS[type].BYTES_PER_ELEMENT;
    if (!Number.isInteger(length) || length < 0 || starts[i]! + bytesOfArray > end) throw refuse(`array ${name} out of bounds`);
    arrayBytes += bytesOfArray;
  }
  const lengthOf = (name: ArrayField) => lengths[INDEX[name]]!;
  const nodes = lengthOf('child');
  for (const name of ['stepFeature', 'threshold', 'value', 'child', 'missLeft', 'catOffset', 'catWords'] as const) {
    // A forest without categorical splits stores no per-node category arrays (layouts from before kept them full).
    const optional = (name === 'catOffset' || name === 'catWords') && header.hasCategorical !== true && lengthOf(name) === 0;
    if (lengthOf(name) !== nodes && !optional) throw refuse(`array ${name} does not match the node count`);
  }
  const views = viewsOf(own.buffer);
  const walk: PackedReads = {
    trees: lengthOf('packed') >> header.packedDepth,
    nodes: views.u16,
    nodesAt: starts[INDEX.packed]! / 2,
    leaves: views.f32,
    leavesAt: starts[INDEX.packedLeaves]! / 4,
    cuts: views.f32,
    cutsAt: starts[INDEX.cuts]! / 4,
    cutStart: views.i32,
    cutStartAt: starts[INDEX.cutStart]! / 4,
  };
  checkPacking(header, lengthOf, walk);
  return new DecodedForest(header, own, arrayBytes, walk);
}

/** Views of a whole buffer, one per element type the single-row walk reads. */
interface BufferViews {
  u16: Uint16Array;
  f32: Float32Array;
  i32: Int32Array;
}
// Made once per buffer: cold loads read layouts into pooled buffers, again and again (see `DecodedForest`).
const viewsByBuffer = new WeakMap<ArrayBuffer, BufferViews>();

function viewsOf(buffer: ArrayBuffer): BufferViews {
  let views = viewsByBuffer.get(buffer);
  if (views === undefined) {
    const words = buffer.byteLength >> 2;
    views = { u16: new Uint16Array(buffer, 0, buffer.byteLength >> 1), f32: new Float32Array(buffer, 0, words), i32: new Int32Array(buffer, 0, words) };
    viewsByBuffer.set(buffer, views);
  }
  return views;
}

/**
 * A decoded layout. A cached model lives long enough to be promoted to the
 * old generation, and so does every object it holds; under Zipf traffic a
 * replica loads hundreds of models a second. So a decoded layout holds no
 * view of its own for the single-row walk: the walk reads the packed arrays
 * through views of the whole buffer, shared by every layout read into that
 * buffer (see `PackedReads`). Its arrays, for everything else, are views made
 * on first use. Before, each cold load made twelve views (~1.2 KB).
 */
export class DecodedForest implements CompiledForest {
  readonly numFeatures: number;
  readonly link: CompiledForest['link'];
  readonly baseMargin: number;
  readonly hasCategorical: boolean;
  readonly packedDepth: number;
  readonly packedFeatureBits: number;
  /** Bytes of the arrays, known without viewing them. */
  readonly arrayBytes: number;
  /** The buffer the arrays are in; it is the layout's alone. */
  readonly buffer: ArrayBuffer;
  readonly walk: PackedReads;
  /** Where the layout's bytes (its magic first) start in `buffer`. */
  readonly #start: number;
  /** The arrays' views, in `ARRAYS` order, each made on first use (where they lie is read from the header again then). */
  #arrays?: { lengths: number[]; starts: number[]; views: Array<ArrayBufferView | undefined> };

  /** `bytes`: the layout, checked, in the buffer that becomes the layout's. */
  constructor(header: Header, bytes: Uint8Array<ArrayBuffer>, arrayBytes: number, walk: PackedReads) {
    this.numFeatures = header.numFeatures;
    this.link = header.link;
    this.baseMargin = new Float64Array(new Uint8Array(Buffer.from(header.baseMargin, 'hex')).buffer)[0]!;
    this.hasCategorical = header.hasCategorical;
    this.packedDepth = header.packedDepth;
    this.packedFeatureBits = header.packedFeatureBits;
    this.arrayBytes = arrayBytes;
    this.buffer = bytes.buffer;
    this.walk = walk;
    this.#start = bytes.byteOffset;
  }

  get roots(): Int32Array {
    return this.#array(INDEX.roots) as Int32Array;
  }
  get treeDepth(): Int32Array {
    return this.#array(INDEX.treeDepth) as Int32Array;
  }
  get stepFeature(): Int32Array {
    return this.#array(INDEX.stepFeature) as Int32Array;
  }
  get threshold(): Float32Array {
    return this.#array(INDEX.threshold) as Float32Array;
  }
  get value(): Float32Array {
    return this.#array(INDEX.value) as Float32Array;
  }
  get child(): Int32Array {
    return this.#array(INDEX.child) as Int32Array;
  }
  get missLeft(): Uint8Array {
    return this.#array(INDEX.missLeft) as Uint8Array;
  }
  get groupDepth(): Int32Array {
    return this.#array(INDEX.groupDepth) as Int32Array;
  }
  get catOffset(): Int32Array {
    return this.#array(INDEX.catOffset) as Int32Array;
  }
  get catWords(): Int32Array {
    return this.#array(INDEX.catWords) as Int32Array;
  }
  get catBits(): Uint32Array {
    return this.#array(INDEX.catBits) as Uint32Array;
  }
  get packed(): Uint16Array {
    return this.#array(INDEX.packed) as Uint16Array;
  }
  get packedLeaves(): Float32Array {
    return this.#array(INDEX.packedLeaves) as Float32Array;
  }
  get cuts(): Float32Array {
    return this.#array(INDEX.cuts) as Float32Array;
  }
  get cutStart(): Int32Array {
    return this.#array(INDEX.cutStart) as Int32Array;
  }

  #array(index: number): ArrayBufferView {
    if (this.#arrays === undefined) {
      const { header, headerLength } = readHeader(new Uint8Array(this.buffer, this.#start));
      this.#arrays = { lengths: header.lengths, starts: arrayStarts(header.lengths, this.#start, headerLength), views: new Array(ARRAYS.length) };
    }
    const { lengths, starts, views } = this.#arrays;
    let view = views[index];
    if (view === undefined) {
      const { type } = ARRAYS[index]!;
      view = lengths[index] === 0 ? EMPTY[type] : new VIEWS[type](this.buffer, starts[index]!, lengths[index]!);
      views[index] = view;
    }
    return view;
  }
}

/** Packed nodes are all or nothing: complete trees of the stated depth, the features' threshold ranges, a feature that fits a node. */
function checkPacking(header: Header, lengthOf: (name: ArrayField) => number, walk: PackedReads): void {
  if (lengthOf('packed') === 0 && lengthOf('packedLeaves') === 0 && lengthOf('cutStart') === 0) return;
  const { packedDepth: depth, packedFeatureBits: featureBits } = header;
  const shape = Number.isInteger(depth) && depth >= 0 && depth <= MAX_PACKED_DEPTH && Number.isInteger(featureBits) && featureBits >= 0 && featureBits <= 16;
  const slots = shape ? lengthOf('roots') << depth : -1;
  const starts = lengthOf('cutStart') === header.numFeatures + 1 && walk.cutStart[walk.cutStartAt + header.numFeatures] === lengthOf('cuts');
  if (!shape || lengthOf('packed') !== slots || lengthOf('packedLeaves') !== slots || header.hasCategorical || !starts) throw refuse('malformed packed nodes');
}
