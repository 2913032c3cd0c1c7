// Worker entry used when the server runs from TypeScript sources (tsx):
// loader hooks registered with --import do not reach worker threads in
// Node 20, so register tsx here, then re-export the real worker's tasks.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./rag-worker.ts');

export const parse = worker.parse;
export const buildIndex = worker.buildIndex;
export const embedHash = worker.embedHash;
