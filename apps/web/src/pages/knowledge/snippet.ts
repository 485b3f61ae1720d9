/** A piece of a search snippet: plain text, or a word the query matched. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * knowledge.search's snippet (markup escaped, matched words in <b>…</b>) as parts to render as
 * text: React escapes them again, so no HTML from a stored entry ever reaches the DOM as markup.
 */
export function parseSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
  let match = false;
  for (const piece of snippet.split(/(<\/?b>)/)) {
    if (piece === '<b>' || piece === '</b>') {
      match = piece === '<b>';
    } else if (piece !== '') {
      parts.push({ text: decode(piece), match });
    }
  }
  return parts;
}
