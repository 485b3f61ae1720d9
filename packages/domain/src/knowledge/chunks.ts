import { KNOWLEDGE_CHUNK_CHARS } from '@threadstore/db';

/** A slice of a body: its text and where it sits, in characters (code points, as PostgreSQL counts). */
export interface Chunk {
  text: string;
  startChar: number;
  lengthChars: number;
}

const codePoints = (text: string) => text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);

/**
 * Cuts a body into slices of at most `size` UTF-16 units, each ending at whitespace when there is
 * some in its second half (so words stay whole and match), never inside a surrogate pair. An
 * empty body is one empty slice, so the title always has a slice to ride in.
 */
export function chunkBody(body: string, size: number = KNOWLEDGE_CHUNK_CHARS): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let startChar = 0;
  do {
    let end = Math.min(body.length, start + size);
    if (end < body.length) {
      const cut = body.slice(start + (size >> 1), end).search(/\s\S*$/u);
      if (cut !== -1) end = start + (size >> 1) + cut + 1;
      else if (/[\uD800-\uDBFF]/.test(body[end - 1]!)) end -= 1;
    }
    const text = body.slice(start, end);
    const lengthChars = codePoints(text);
    chunks.push({ text, startChar, lengthChars });
    start = end;
    startChar += lengthChars;
  } while (start < body.length);
  return chunks;
}
