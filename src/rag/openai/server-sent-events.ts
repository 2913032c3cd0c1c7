/** One dispatched server-sent event. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Parses a `text/event-stream` body as the HTML spec says: lines end in
 * CR, LF or CRLF; `data:` lines accumulate (joined by LF); a blank line
 * dispatches; lines starting with ':' are comments; one leading space after
 * the colon is dropped. Handles lines split across network chunks.
 */
export async function* parseServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let pendingCr = false;

  const dispatch = (): ServerSentEvent | undefined => {
    const out = data.length > 0 ? { event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) } : undefined;
    data = [];
    event = '';
    return out;
  };

  const feed = function* (text: string): Generator<ServerSentEvent> {
    buffer += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === '\r' && m.index === buffer.length - 1 && !pendingCr) {
        pendingCr = true;
        break;
      }
      pendingCr = false;
      const line = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      if (line === '') {
        const e = dispatch();
        if (e) yield e;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\u0000')) id = value;
    }
  };

  for await (const chunk of body) yield* feed(decoder.decode(chunk, { stream: true }));
  pendingCr = true; // end of stream: a trailing CR is a line end
  yield* feed(`${decoder.decode()}`);
  // A final event without its blank line is discarded, as the spec says.
}

/** Formats one event for a `text/event-stream` response (data may span lines). */
export function formatServerSentEvent(data: string, event?: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`);
  return `${event ? `event: ${event}\n` : ''}${lines.join('\n')}\n\n`;
}
