/**
 * Artifact store on a local folder. `put` writes the whole object to a temp
 * file under `<dir>/.tmp/`, fsyncs it and renames it into place: rename is
 * atomic on one filesystem, so a reader sees the old file or the new one.
 * Keys never have a segment starting with '.', so `.tmp` can never collide.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, type Dirent, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { errors } from '../errors.js';
import { assertStoreKey, assertStorePrefix } from './artifact-key.js';
import type { ArtifactStore, FolderStoreConfig } from './artifact-store.js';

const TMP = '.tmp';

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Whether a read error means "no such object" (as opposed to the folder being unreadable). */
export function isMissing(error: unknown): boolean {
  const c = code(error);
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR';
}

/**
 * The whole file in one read at its size: four thread-pool round trips (open,
 * stat, read, close) whatever its size, where `readFile` reads 512 KiB a trip
 * (a 3 MB index took nine, each waiting its turn behind other I/O).
 */
async function readWhole(path: string, allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const out = allocate(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(out, filled, size - filled, filled);
      if (bytesRead === 0) break; // shorter than its size said: the envelope check reports the truncation
      filled += bytesRead;
    }
    return filled === size ? out : out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * `readWhole` without the thread pool, for callers on the event loop that read a few hundred KB: one synchronous
 * read costs it less than four async round trips that each wait their turn behind requests under load.
 */
export function readWholeSync(path: string, allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = allocate(size);
    let filled = 0;
    while (filled < size) {
      const bytesRead = readSync(fd, out, filled, size - filled, filled);
      if (bytesRead === 0) break; // shorter than its size said: the envelope check reports the truncation
      filled += bytesRead;
    }
    return filled === size ? out : out.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

function down(op: string, error: unknown): Error {
  return errors.unavailable(`artifact folder ${op} failed (${code(error) ?? 'error'})`, 1, error);
}

/** Creates a raw (unsealed) store on the folder `config.dir`. */
export function createFolderArtifactStore(config: FolderStoreConfig): ArtifactStore {
  const root = config.dir;
  const pathOf = (key: string) => {
    assertStoreKey(key);
    return join(root, ...key.split('/'));
  };

  async function walk(dir: string, relative: string, out: string[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw down('list', error);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(join(dir, entry.name), rel, out);
      else if (entry.isFile()) out.push(rel);
    }
  }

  async function list(prefix: string): Promise<string[]> {
    assertStorePrefix(prefix);
    // Walk only the deepest whole directory the prefix names, then filter.
    const lastSlash = prefix.lastIndexOf('/');
    const base = lastSlash < 0 ? '' : prefix.slice(0, lastSlash);
    const out: string[] = [];
    await walk(base === '' ? root : join(root, ...base.split('/')), base, out);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  async function read(key: string, allocate?: (size: number) => Uint8Array): Promise<Uint8Array | null> {
    const path = pathOf(key);
    try {
      return await readWhole(path, allocate);
    } catch (error) {
      if (isMissing(error)) return null;
      throw down('read', error);
    }
  }

  async function pruneEmptyParents(file: string): Promise<void> {
    let dir = dirname(file);
    while (dir.startsWith(root + sep) && dir !== root) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      dir = dirname(dir);
    }
  }

  async function remove(key: string): Promise<boolean> {
    const path = pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return false;
      throw down('delete', error);
    }
    await pruneEmptyParents(path);
    return true;
  }

  return {
    kind: 'folder',
    async put(key, bytes) {
      const path = pathOf(key);
      const tmpDir = join(root, TMP);
      const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
      try {
        await mkdir(tmpDir, { recursive: true });
        await mkdir(dirname(path), { recursive: true });
        const handle = await open(tmp, 'wx');
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, path);
      } catch (error) {
        await unlink(tmp).catch(() => undefined);
        if (code(error) === 'EISDIR') throw errors.conflict(`artifact key '${key}' is a prefix of other keys`);
        throw down('write', error);
      }
    },
    localPath: pathOf,
    get: (key) => read(key),
    getInto: (key, allocate) => read(key, allocate),
    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw down('stat', error);
      }
    },
    delete: remove,
    async deletePrefix(prefix) {
      let count = 0;
      for (const key of await list(prefix)) if (await remove(key)) count++;
      return count;
    },
    list,
    async close() {},
  };
}
