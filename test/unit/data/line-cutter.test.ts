import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineCutter } from '../../../src/data/line-cutter.js';

/** Every line `text` holds, cut from pieces of `size` characters, plus what follows the last break. */
function cutInPieces(text: string, size: number): { lines: Array<[string, number]>; rest: string; count: number } {
  const cutter = new LineCutter();
  const lines: Array<[string, number]> = [];
  for (let at = 0; at < text.length; at += size) cutter.cut(text.slice(at, at + size), (line, n) => lines.push([line, n]));
  return { lines, rest: cutter.takeRest(), count: cutter.lines };
}

test('lines come out whole and numbered, however the text is cut', () => {
  const texts = ['a\nbb\n\nccc', 'one line without a break', '\n\n\n', 'x\n', `${'long '.repeat(2000)}\nend\n`];
  for (const text of texts) {
    const parts = text.split('\n');
    const expected = parts.slice(0, -1).map((line, i): [string, number] => [line, i + 1]);
    for (const size of [1, 2, 7, 4096]) {
      const { lines, rest, count } = cutInPieces(text, size);
      assert.deepEqual(lines, expected, `${JSON.stringify(text.slice(0, 30))} in pieces of ${size}`);
      assert.equal(rest, parts.at(-1));
      assert.equal(count, parts.length - 1);
    }
  }
});

test('the rest is taken out: a second take is empty', () => {
  const cutter = new LineCutter();
  cutter.cut('a\nb', () => {});
  assert.equal(cutter.takeRest(), 'b');
  assert.equal(cutter.takeRest(), '');
});
