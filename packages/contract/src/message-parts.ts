import * as z from 'zod';

/**
 * Text inside a part. Unlike a plain `content` string (where the server replaces NULs and lone
 * surrogates with U+FFFD and marks the message `sanitized`), parts are refused with them: a part
 * comes back byte for byte as it was written, or is not stored at all.
 */
const ZPartText = z
  .string()
  .refine((s) => s.isWellFormed() && !s.includes('\0'), 'must be valid Unicode without NUL characters');

/** Ids and names inside a part (a tool call's id, a tool's name, a file's name). */
const ZPartLabel = ZPartText.pipe(z.string().min(1).max(255));

/** A file's or a source's address: a URL or a storage key the client understands. */
const ZPartUrl = ZPartText.pipe(z.string().min(1).max(2_048));

/** Text the model or the user wrote; joined into the message's `content` and searchable. */
export const ZTextPart = z.strictObject({ type: z.literal('text'), text: ZPartText });

/** The model's reasoning before its answer: kept, shown on request, never part of `content` or search. */
export const ZReasoningPart = z.strictObject({ type: z.literal('reasoning'), text: ZPartText });

/**
 * A tool the model asked to run. `input` is any JSON value, bounded like metadata
 * (`maxJsonBytes`, `maxJsonDepth`); its strings may hold no NUL or lone surrogate either.
 */
export const ZToolCallPart = z.strictObject({
  type: z.literal('tool-call'),
  toolCallId: ZPartLabel,
  toolName: ZPartLabel,
  input: z.unknown().optional(),
});

/** What a tool returned for the call `toolCallId`; `output` is bounded like `input`. */
export const ZToolResultPart = z.strictObject({
  type: z.literal('tool-result'),
  toolCallId: ZPartLabel,
  toolName: ZPartLabel,
  output: z.unknown().optional(),
  isError: z.boolean().optional(),
});

/** A file by reference (the bytes live elsewhere): where, what kind, how large. */
export const ZFilePart = z.strictObject({
  type: z.literal('file'),
  url: ZPartUrl,
  /** An IANA media type, `type/subtype` (`image/png`, `application/pdf`). */
  mediaType: z
    .string()
    .max(255)
    .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'must be a media type such as image/png'),
  /** In bytes. */
  size: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  name: ZPartLabel.optional(),
});

/** A source the answer draws on: an address, a title, or both, and optionally the passage quoted. */
export const ZCitationPart = z
  .strictObject({
    type: z.literal('citation'),
    url: ZPartUrl.optional(),
    title: ZPartText.pipe(z.string().min(1).max(1_024)).optional(),
    quote: ZPartText.optional(),
  })
  .refine((part) => part.url !== undefined || part.title !== undefined, {
    message: 'a citation needs a url or a title',
    path: ['url'],
  });

export const MESSAGE_PART_TYPES = ['text', 'reasoning', 'tool-call', 'tool-result', 'file', 'citation'] as const;

/** One typed part of a message; an unknown `type` is refused. */
export const ZMessagePart = z.discriminatedUnion('type', [
  ZTextPart,
  ZReasoningPart,
  ZToolCallPart,
  ZToolResultPart,
  ZFilePart,
  ZCitationPart,
]);
export type TMessagePart = z.infer<typeof ZMessagePart>;

/**
 * A message's content as a caller writes it: plain text (as always), or its parts in order. The
 * parts together, as JSON, may take at most `maxContentBytes`; a tool call's `input` or a tool
 * result's `output` at most `maxJsonBytes` and `maxJsonDepth` each.
 */
export const ZMessageContent = z.union([z.string(), z.array(ZMessagePart).min(1)]);
export type TMessageContent = z.infer<typeof ZMessageContent>;

/** What separates text parts in the message's `content`: a paragraph break. */
export const TEXT_PART_SEPARATOR = '\n\n';

/**
 * The plain text of a list of parts, as the server stores it in `content` (and indexes it for
 * search): the text parts' texts joined by `TEXT_PART_SEPARATOR`; reasoning, tools, files and
 * citations are left out.
 */
export function textOfParts(parts: readonly TMessagePart[]): string {
  return parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(TEXT_PART_SEPARATOR);
}
