import { textOfParts, type ContentLimits, type TMessageContent, type TMessagePart } from '@threadstore/contract';
import { checkTextBytes, jsonDepth, overLimit } from '../content/limits.ts';
import { sanitizeText } from '../content/sanitize.ts';
import { DomainError } from '../errors.ts';

/** A message's content readied for the columns: `content` (text) and `parts` (serialized JSON or null). */
export interface PreparedContent {
  content: string;
  parts: string | null;
  /** Parsed back, for the idempotency fingerprint (null for plain text). */
  partsValue: TMessagePart[] | null;
  /** Whether plain text had NULs or lone surrogates replaced (parts never do: they are refused). */
  sanitized: boolean;
}

/**
 * Plain text is sanitized and bounded by `maxContentBytes`, as it always was. Parts (the contract
 * has checked their shapes and their typed strings) are checked here for what the contract cannot
 * know: the configured limits, and NULs or lone surrogates hidden in a tool's free-form JSON.
 * Nothing is repaired: a part comes back exactly as written or the message is refused.
 */
export function prepareContent(content: TMessageContent, limits: ContentLimits, field: string): PreparedContent {
  if (typeof content === 'string') {
    const clean = sanitizeText(content);
    checkTextBytes(clean, limits, field);
    return { content: clean, parts: null, partsValue: null, sanitized: clean !== content };
  }
  content.forEach((part, index) => {
    if (part.type === 'tool-call') checkFreeJson(part.input, limits, `${field}[${index}].input`);
    if (part.type === 'tool-result') checkFreeJson(part.output, limits, `${field}[${index}].output`);
  });
  const json = JSON.stringify(content);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxContentBytes) {
    throw overLimit(
      'maxContentBytes',
      limits.maxContentBytes,
      bytes,
      `${field} is ${bytes} bytes as JSON parts`,
      field,
    );
  }
  return { content: textOfParts(content), parts: json, partsValue: content, sanitized: false };
}

/** A tool's input or output: any JSON, as deep and as large as metadata may be, with clean strings. */
function checkFreeJson(value: unknown, limits: ContentLimits, field: string): void {
  if (value === undefined) return;
  const max = limits.maxJsonDepth;
  const depth = jsonDepth(value, max);
  if (depth > max) throw overLimit('maxJsonDepth', max, depth, `${field} nests more than ${max} levels deep`, field);
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
  if (bytes > limits.maxJsonBytes) {
    throw overLimit('maxJsonBytes', limits.maxJsonBytes, bytes, `${field} is ${bytes} bytes as JSON`, field);
  }
  const bad = findUnstorableString(value);
  if (bad !== null) {
    throw new DomainError('BAD_REQUEST', `${field} holds a NUL character or a lone surrogate (in ${bad})`, {
      field,
    });
  }
}

/**
 * Where, in a JSON value already bounded in depth, a string or an object key holds a NUL or a
 * lone surrogate ("a key", "a string"), or null. An explicit stack, like `jsonDepth`.
 */
function findUnstorableString(value: unknown): string | null {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (!storable(node)) return 'a string';
    } else if (Array.isArray(node)) {
      for (const item of node as unknown[]) stack.push(item);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        if (!storable(key)) return 'a key';
        stack.push(item);
      }
    }
  }
  return null;
}

function storable(text: string): boolean {
  return text.isWellFormed() && !text.includes('\0');
}
