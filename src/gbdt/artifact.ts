/**
 * The model store's binary artifact: a fixed header, a small JSON block of
 * model metadata, then the forest's typed arrays back to back, little-endian
 * and 4-byte aligned, so loading is one copy plus typed-array views.
 *
 *   0  magic "GBDT" | 4 u16 format version | 6 u16 header bytes (48)
 *   8  u32 total length | 12 u32 CRC-32 of bytes 16..end
 *  16  u32 meta bytes | 20 u32 trees | 24 u32 nodes | 28 u32 categorical nodes
 *  32  u32 categories | 36..47 reserved (0)
 *  48  meta JSON (UTF-8, space-padded to 4 bytes), then the arrays in ARRAY_ORDER
 */
import { errors } from '../errors.js';
import { crc32 } from './crc32.js';
import { allocateForest, validateForest } from './forest.js';
import { OBJECTIVE_NAMES, type Forest, type GbdtModel, type ObjectiveConfig } from './types.js';

const MAGIC = 0x54444247; // "GBDT" little-endian
/** Current artifact format version. */
export const ARTIFACT_VERSION = 1;
const HEADER_BYTES = 48;

type ArrayKey = Exclude<keyof Forest, 'numTrees'>;
const ARRAY_ORDER: readonly ArrayKey[] = [
  'treeStart',
  'left',
  'right',
  'feature',
  'value',
  'baseWeight',
  'gain',
  'cover',
  'catNodes',
  'catStart',
  'catSize',
  'categories',
  'defaultLeft',
  'splitType',
];

interface ArtifactMeta {
  objective: ObjectiveConfig;
  baseScore: number;
  numFeatures: number;
  featureNames: string[];
  featureKinds: GbdtModel['featureKinds'];
  bestIteration?: number;
}

/** Serializes a model to artifact bytes (the buffer is fresh, so it can be transferred). */
export function serializeModel(model: GbdtModel): Uint8Array {
  const f = model.forest;
  const meta: ArtifactMeta = {
    objective: model.objective,
    baseScore: model.baseScore,
    numFeatures: model.numFeatures,
    featureNames: model.featureNames,
    featureKinds: model.featureKinds,
    ...(model.bestIteration === undefined ? {} : { bestIteration: model.bestIteration }),
  };
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta));
  const metaPadded = align4(metaBytes.length);
  let total = HEADER_BYTES + metaPadded;
  for (const key of ARRAY_ORDER) total += align4(f[key].byteLength);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, ARTIFACT_VERSION, true);
  view.setUint16(6, HEADER_BYTES, true);
  view.setUint32(8, total, true);
  view.setUint32(16, metaPadded, true);
  view.setUint32(20, f.numTrees, true);
  view.setUint32(24, f.left.length, true);
  view.setUint32(28, f.catNodes.length, true);
  view.setUint32(32, f.categories.length, true);
  out.set(metaBytes, HEADER_BYTES);
  out.fill(0x20, HEADER_BYTES + metaBytes.length, HEADER_BYTES + metaPadded);
  let pos = HEADER_BYTES + metaPadded;
  for (const key of ARRAY_ORDER) {
    const a = f[key];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), pos);
    pos += align4(a.byteLength);
  }
  view.setUint32(12, crc32(out.subarray(16)), true);
  return out;
}

/**
 * Loads artifact bytes. Throws `validation_failed` naming the problem when
 * the bytes are truncated, corrupted, of another format version or describe
 * an invalid model.
 */
export function deserializeModel(bytes: Uint8Array | ArrayBuffer): GbdtModel {
  const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const corrupt = (why: string): never => {
    throw errors.validation(`model artifact is corrupted: ${why}`, { reason: why });
  };
  if (input.length < HEADER_BYTES) corrupt(`truncated (${input.length} bytes, header needs ${HEADER_BYTES})`);
  // One copy gives an aligned, private buffer for the typed-array views.
  const buf = input.slice();
  const view = new DataView(buf.buffer);
  if (view.getUint32(0, true) !== MAGIC) corrupt('not a gbdt model artifact (bad magic)');
  const version = view.getUint16(4, true);
  if (version !== ARTIFACT_VERSION) {
    throw errors.validation(`model artifact format version ${version} is not supported (expected ${ARTIFACT_VERSION})`);
  }
  const total = view.getUint32(8, true);
  if (total !== buf.length) corrupt(`truncated or padded (${buf.length} bytes, header says ${total})`);
  if (view.getUint16(6, true) !== HEADER_BYTES) corrupt('bad header size');
  if (crc32(buf.subarray(16)) !== view.getUint32(12, true)) corrupt('checksum mismatch');
  const metaLen = view.getUint32(16, true);
  const numTrees = view.getUint32(20, true);
  const numNodes = view.getUint32(24, true);
  const forest = allocateForestViews(buf, HEADER_BYTES + metaLen, numTrees, numNodes, view.getUint32(28, true), view.getUint32(32, true));
  if (forest === null) return corrupt('array sizes do not match the artifact length');
  let meta: ArtifactMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(buf.subarray(HEADER_BYTES, HEADER_BYTES + metaLen))) as ArtifactMeta;
  } catch {
    return corrupt('metadata is not valid JSON');
  }
  if (!OBJECTIVE_NAMES.includes(meta.objective?.name) || !Number.isInteger(meta.numFeatures) || meta.numFeatures < 1) {
    corrupt('metadata is incomplete');
  }
  if (!Array.isArray(meta.featureKinds) || meta.featureKinds.length !== meta.numFeatures) corrupt('feature kinds do not match');
  validateForest(forest, meta.numFeatures);
  return {
    objective: meta.objective,
    baseScore: meta.baseScore,
    numFeatures: meta.numFeatures,
    featureNames: meta.featureNames ?? [],
    featureKinds: meta.featureKinds,
    forest,
    ...(meta.bestIteration === undefined ? {} : { bestIteration: meta.bestIteration }),
  };
}

function allocateForestViews(buf: Uint8Array, start: number, trees: number, nodes: number, catNodes: number, cats: number): Forest | null {
  const shape = allocateForest(0, 0, 0, 0);
  const lengths: Record<ArrayKey, number> = {
    treeStart: trees + 1,
    left: nodes,
    right: nodes,
    feature: nodes,
    value: nodes,
    baseWeight: nodes,
    gain: nodes,
    cover: nodes,
    catNodes,
    catStart: catNodes,
    catSize: catNodes,
    categories: cats,
    defaultLeft: nodes,
    splitType: nodes,
  };
  let pos = start;
  const out: Partial<Record<ArrayKey, Forest[ArrayKey]>> = {};
  for (const key of ARRAY_ORDER) {
    const ctor = shape[key].constructor as new (b: ArrayBufferLike, o: number, l: number) => Forest[ArrayKey];
    const bytes = lengths[key] * (shape[key] as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (pos + bytes > buf.length) return null;
    out[key] = new ctor(buf.buffer, buf.byteOffset + pos, lengths[key]);
    pos += align4(bytes);
  }
  if (pos !== buf.length) return null;
  return { numTrees: trees, ...(out as Omit<Forest, 'numTrees'>) };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
