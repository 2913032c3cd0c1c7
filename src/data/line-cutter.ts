/**
 * Cuts text that arrives in pieces into lines on `\n`. The text after the last
 * line break waits, in the pieces it came in, and is joined only when its break
 * arrives. A long line sent in many small pieces is then copied once, not again
 * with every piece.
 */
export class LineCutter {
  private pending: string[] = [];
  /** Line breaks read so far: the number of the last line handed out. */
  lines: number;

  /** `linesBefore`: lines of the text that came before the first piece (they count in the numbers handed out). */
  constructor(linesBefore = 0) {
    this.lines = linesBefore;
  }

  /** Hands `onLine` each line that `piece` completes (without its `\n`), with its 1-based number, in order. */
  cut(piece: string, onLine: (text: string, line: number) => void): void {
    const firstBreak = piece.indexOf('\n');
    if (firstBreak === -1) {
      if (piece !== '') this.pending.push(piece);
      return;
    }
    const text = this.pending.length === 0 ? piece : this.pending.join('') + piece;
    let start = 0;
    for (let end = text.length - piece.length + firstBreak; end !== -1; end = text.indexOf('\n', start)) {
      this.lines++;
      onLine(text.slice(start, end), this.lines);
      start = end + 1;
    }
    this.pending = start < text.length ? [text.slice(start)] : [];
  }

  /** The text after the last line break ('' when there is none), taken out of the cutter. */
  takeRest(): string {
    const rest = this.pending.join('');
    this.pending = [];
    return rest;
  }
}
