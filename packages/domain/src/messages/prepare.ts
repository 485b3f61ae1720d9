import { hash } from 'node:crypto';
import type { ContentLimits, TMessageRole, TNewMessage } from '@threadstore/contract';
import { uuidv7 } from '@threadstore/db';
import { prepareJson } from '../content/limits.ts';
import { prepareContent } from './parts.ts';

/** A message checked against the limits and sanitized, in the column shapes the insert binds. */
export interface PreparedMessage {
  id: string;
  role: TMessageRole;
  content: string;
  /** The typed parts as JSON (bound as `json`), or null for plain text. */
  parts: string | null;
  /** The earlier user message this one is sent as an edit of (chat.send's `editOf`). */
  editOf: string | null;
  chapter: string | null;
  /** Serialized JSON (or null), bound as `jsonb`. */
  citations: string | null;
  toolCalls: string | null;
  metadata: string;
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cost: string | null;
  latencyMs: number | null;
  parentId: string | null;
  agentId: string | null;
  clientMessageId: string | null;
  /** Fingerprint of the message, to tell a retry (same) from a reused key (different); only with a key. */
  requestHash: string | null;
  sanitized: boolean;
}

/**
 * Checks `input` against the content limits (BAD_REQUEST naming the limit; `fieldOf` says where
 * a field was in the input, as in `messages[3].content`), replaces NULs and lone surrogates in its
 * content and JSON values, and gives it its id.
 */
export function prepareMessage(
  input: TNewMessage,
  limits: ContentLimits,
  fieldOf: (name: string) => string = (name) => name,
  editOf: string | null = null,
): PreparedMessage {
  const prepared = prepareContent(input.content, limits, fieldOf('content'));
  const content = prepared.content;
  const citations = input.citations == null ? null : prepareJson(input.citations, limits, fieldOf('citations'));
  const toolCalls = input.toolCalls == null ? null : prepareJson(input.toolCalls, limits, fieldOf('toolCalls'));
  const metadata = prepareJson(input.metadata ?? {}, limits, fieldOf('metadata'));

  const message = {
    role: input.role,
    content,
    chapter: input.chapter ?? null,
    model: input.model ?? null,
    promptTokens: input.promptTokens ?? null,
    completionTokens: input.completionTokens ?? null,
    cost: input.cost ?? null,
    latencyMs: input.latencyMs ?? null,
    parentId: input.parentId ?? null,
    agentId: input.agentId ?? null,
  };
  const clientMessageId = input.clientMessageId ?? null;
  return {
    id: uuidv7(),
    ...message,
    parts: prepared.parts,
    editOf,
    citations: citations?.json ?? null,
    toolCalls: toolCalls?.json ?? null,
    metadata: metadata.json,
    clientMessageId,
    requestHash:
      clientMessageId === null
        ? null
        : requestHash({
            ...message,
            cost: message.cost === null ? null : canonicalDecimal(message.cost),
            citations: citations?.value ?? null,
            toolCalls: toolCalls?.value ?? null,
            metadata: metadata.value,
            // Only for parts, so a plain message hashes as it did before parts existed (a retry
            // across the upgrade still matches its stored fingerprint).
            ...(prepared.partsValue === null ? {} : { parts: prepared.partsValue }),
          }),
    sanitized:
      prepared.sanitized || citations?.sanitized === true || toolCalls?.sanitized === true || metadata.sanitized,
  };
}

/**
 * sha256 of the message's canonical JSON (keys sorted at every level), so the same message
 * hashes the same however its client ordered the keys. It hashes the sanitized values: those
 * are what was stored, and what a retry of the same request sanitizes to again.
 */
function requestHash(message: Record<string, unknown>): string {
  return hash('sha256', canonicalJson(message), 'hex');
}

/**
 * Recursive, but only ever given values `prepareJson` has already bounded in depth. Written as
 * loops over sorted keys (the default sort orders strings by UTF-16 code units, as `<` does)
 * rather than entries, filter, sort with a comparator, map and join: the same text, in about a
 * third of the time, which showed once bulk import fingerprinted 50,000 messages a second.
 */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** `"001.50"` and `"1.5"` are the same cost (numeric stores both as 1.5): one spelling for the hash. */
function canonicalDecimal(decimal: string): string {
  const [whole = '', fraction = ''] = decimal.split('.');
  const digits = whole.replace(/^0+(?=\d)/, '');
  const decimals = fraction.replace(/0+$/, '');
  return decimals === '' ? digits : `${digits}.${decimals}`;
}
