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
import { MAX_PACKED_DEPTH } from './packed-walk.js';

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

/**
 * Decodes a layout, refusing one compiled from another artifact than
 * `expectedSourceSha256` or not in this format (callers fall back to
 * compiling the artifact). With `inPlace` (the caller owns `bytes`' buffer and
 * gives it up) the arrays view those bytes where they lie, if they start at an
 * 8-byte boundary; otherwise they are copied into a buffer of their own.
 */
export function decodeCompiledForest(bytes: Uint8Array, expectedSourceSha256: string, options: { inPlace?: boolean } = {}): CompiledForest {
  if (bytes.length < 8 || utf8.decode(bytes.subarray(0, 4)) !== MAGIC) throw refuse('not a compiled layout');
  // The arrays below must start at aligned offsets of a buffer this layout owns: one copy, unless these bytes are that.
  const own = options.inPlace === true && bytes.byteOffset % 8 === 0 ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const headerLength = new DataView(own.buffer, own.byteOffset).getUint32(4, true);
  if (8 + headerLength > own.length) throw refuse('truncated header');
  let header: Header;
  try {
    header = JSON.parse(utf8.decode(own.subarray(8, 8 + headerLength))) as Header;
  } catch {
    throw refuse('unreadable header');
  }
  if (header.version !== VERSION) throw refuse(`format version ${header.version}`);
  if (header.sourceSha256 !== expectedSourceSha256) throw refuse('compiled from another artifact');
  if (!LINK_KINDS.includes(header.link) || !Array.isArray(header.lengths) || header.lengths.length !== ARRAYS.length || !/^[0-9a-f]{16}$/.test(header.baseMargin)) {
    throw refuse('malformed header');
  }
  let at = align8(8 + headerLength);
  const arrays = {} as Pick<CompiledForest, ArrayField>;
  for (const [i, { name, type }] of ARRAYS.entries()) {
    const length = header.lengths[i]!;
    const View = VIEWS[type];
    if (!Number.isInteger(length) || length < 0 || at + length * View.BYTES_PER_ELEMENT > own.length) throw refuse(`array ${name} out of bounds`);
    (arrays as Record<ArrayField, ArrayBufferView>)[name] = length === 0 ? EMPTY[type] : new View(own.buffer, own.byteOffset + at, length);
    at += align8(length * View.BYTES_PER_ELEMENT);
  }
  const nodes = arrays.child.length;
  for (const name of ['stepFeature', 'threshold', 'value', 'child', 'missLeft', 'catOffset', 'catWords'] as const) {
    // A forest without categorical splits stores no per-node category arrays (layouts from before kept them full).
    const optional = (name === 'catOffset' || name === 'catWords') && header.hasCategorical !== true && arrays[name].length === 0;
    if (arrays[name].length !== nodes && !optional) throw refuse(`array ${name} does not match the node count`);
  }
  checkPacking(header, arrays);
  return {
    numFeatures: header.numFeatures,
    link: header.link,
    baseMargin: new Float64Array(new Uint8Array(Buffer.from(header.baseMargin, 'hex')).buffer)[0]!,
    hasCategorical: header.hasCategorical,
    packedDepth: header.packedDepth,
    packedFeatureBits: header.packedFeatureBits,
    ...arrays,
  };
}

/** Packed nodes are all or nothing: complete trees of the stated depth, the features' threshold ranges, a feature that fits a node. */
function checkPacking(header: Header, arrays: Pick<CompiledForest, 'roots' | 'packed' | 'packedLeaves' | 'cuts' | 'cutStart'>): void {
  if (arrays.packed.length === 0 && arrays.packedLeaves.length === 0 && arrays.cutStart.length === 0) return;
  const { packedDepth: depth, packedFeatureBits: featureBits } = header;
  const shape = Number.isInteger(depth) && depth >= 0 && depth <= MAX_PACKED_DEPTH && Number.isInteger(featureBits) && featureBits >= 0 && featureBits <= 16;
  const slots = shape ? arrays.roots.length << depth : -1;
  const starts = arrays.cutStart.length === header.numFeatures + 1 && arrays.cutStart[header.numFeatures] === arrays.cuts.length;
  if (!shape || arrays.packed.length !== slots || arrays.packedLeaves.length !== slots || header.hasCategorical || !starts) throw refuse('malformed packed nodes');
}
