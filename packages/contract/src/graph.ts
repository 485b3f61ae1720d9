import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZTimestamp } from './common.ts';
import { ZKey } from './sessions.ts';

// The entity graph: nodes (entities) and typed, directed, weighted edges (relationships) with
// their evidence. A graph belongs to its owner and optionally one of the owner's projects: every
// input that names no node names the graph with `projectId` (omitted: the owner's graph outside
// any project).

const ZEntityType = ZKey(64);
const ZRelationshipType = ZKey(64);
/** The normalised identity of a thing within its type (a registry number, a lower-cased domain…). */
const ZCanonicalKey = ZKey(512);
const ZEntityName = z.string().min(1).max(512);
export const MAX_ALIASES = 64;
export const MAX_EVIDENCE_ITEMS = 256;
const ZUrl = z.url().max(2048);

export const ZEntity = z.object({
  id: ZId,
  projectId: ZId.nullable(),
  type: z.string(),
  name: z.string(),
  canonicalKey: z.string(),
  aliases: z.array(z.string()),
  properties: ZJsonObject,
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TEntity = z.infer<typeof ZEntity>;

/**
 * Creates the node (type, canonicalKey) in the graph, or updates the one there: the name is
 * replaced, aliases are added to the ones it has, properties are merged key by key. The same call
 * twice leaves the same node; concurrent calls make one node.
 */
export const ZUpsertEntityInput = z.strictObject({
  projectId: ZId.optional(),
  type: ZEntityType,
  canonicalKey: ZCanonicalKey,
  name: ZEntityName,
  aliases: z.array(ZEntityName).max(MAX_ALIASES).optional(),
  /** A JSON object; the server bounds its size and depth. */
  properties: ZJsonObject.optional(),
});
export type TUpsertEntityInput = z.infer<typeof ZUpsertEntityInput>;

export const ZUpsertEntityOutput = z.object({ entity: ZEntity, created: z.boolean() });
export type TUpsertEntityOutput = z.infer<typeof ZUpsertEntityOutput>;

/** A node by id; the id of a node merged into another answers with the survivor. */
export const ZEntityIdInput = z.strictObject({ id: ZId });
export type TEntityIdInput = z.infer<typeof ZEntityIdInput>;

/** Names and aliases, by word prefix ("acm hold" finds "ACME Holdings"), best match first. */
export const ZSearchEntitiesInput = z.strictObject({
  projectId: ZId.optional(),
  query: z.string().min(1).max(256),
  types: z.array(ZEntityType).min(1).max(32).optional(),
  limit: z.number().int().positive().optional(),
});
export type TSearchEntitiesInput = z.infer<typeof ZSearchEntitiesInput>;

export const ZEntitySearchResult = z.object({
  items: z.array(z.object({ entity: ZEntity, rank: z.number() })),
});
export type TEntitySearchResult = z.infer<typeof ZEntitySearchResult>;

/**
 * Two nodes found to be one: `mergedId`'s relationships move to `survivorId` (an edge both had is
 * kept once, with the evidence of both), its aliases and name join the survivor's aliases, and
 * its id and canonical key resolve to the survivor from then on.
 */
export const ZMergeEntitiesInput = z.strictObject({ survivorId: ZId, mergedId: ZId });
export type TMergeEntitiesInput = z.infer<typeof ZMergeEntitiesInput>;

export const ZEvidence = z.strictObject({
  /** Messages of the caller's own sessions. */
  messageIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
  /** The caller's own investigations. */
  investigationIds: z.array(ZId).max(MAX_EVIDENCE_ITEMS).optional(),
  urls: z.array(ZUrl).max(MAX_EVIDENCE_ITEMS).optional(),
});

export const ZRelationship = z.object({
  id: ZId,
  sourceId: ZId,
  targetId: ZId,
  type: z.string(),
  weight: z.number().nonnegative(),
  properties: ZJsonObject,
  evidence: z.object({
    messageIds: z.array(ZId),
    investigationIds: z.array(ZId),
    urls: z.array(z.string()),
  }),
  validFrom: ZTimestamp.nullable(),
  validTo: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TRelationship = z.infer<typeof ZRelationship>;

/**
 * The edge source → target of `type`, created or updated: weight, properties and the valid span
 * are replaced when given, evidence is added to what the edge has (each item once).
 * Both nodes must be in the same graph.
 */
export const ZUpsertRelationshipInput = z
  .strictObject({
    sourceId: ZId,
    targetId: ZId,
    type: ZRelationshipType,
    weight: z.number().min(0).max(999_999).optional(),
    properties: ZJsonObject.optional(),
    evidence: ZEvidence.optional(),
    /** When the relationship started and stopped holding (null: unknown or still holds). */
    validFrom: ZTimestamp.nullable().optional(),
    validTo: ZTimestamp.nullable().optional(),
  })
  .refine((input) => input.sourceId !== input.targetId, {
    message: 'a node cannot relate to itself',
    path: ['targetId'],
  })
  .refine((input) => !input.validFrom || !input.validTo || Date.parse(input.validFrom) <= Date.parse(input.validTo), {
    message: 'validTo is before validFrom',
    path: ['validTo'],
  });
export type TUpsertRelationshipInput = z.infer<typeof ZUpsertRelationshipInput>;

export const ZUpsertRelationshipOutput = z.object({ relationship: ZRelationship, created: z.boolean() });
export type TUpsertRelationshipOutput = z.infer<typeof ZUpsertRelationshipOutput>;

export const ZRemoveRelationshipInput = z.strictObject({ id: ZId });
export type TRemoveRelationshipInput = z.infer<typeof ZRemoveRelationshipInput>;
export const ZRemoveRelationshipOutput = z.object({ id: ZId, removed: z.literal(true) });

export const TRAVERSAL_DIRECTIONS = ['out', 'in', 'both'] as const;
/** Along edges (source → target), against them, or either way. */
export const ZTraversalDirection = z.enum(TRAVERSAL_DIRECTIONS);

const traversalFilters = {
  direction: ZTraversalDirection.default('both'),
  /** Only edges of these types are followed. */
  relationshipTypes: z.array(ZRelationshipType).min(1).max(32).optional(),
};

/**
 * Nodes within `depth` steps of a node, nearest first (then by id), each once at its shortest
 * distance, a page at a time. A neighbourhood too large to walk within the server's time budget
 * is refused with TIMEOUT rather than walked for ever.
 */
export const ZNeighboursInput = z.strictObject({
  id: ZId,
  depth: z.number().int().min(1).max(3).default(1),
  ...traversalFilters,
  /** Only nodes of these types are returned (others are still walked through). */
  nodeTypes: z.array(ZEntityType).min(1).max(32).optional(),
  limit: z.number().int().positive().optional(),
  cursor: ZCursor.optional(),
});
export type TNeighboursInput = z.infer<typeof ZNeighboursInput>;

export const ZNeighboursPage = z.object({
  items: z.array(z.object({ entity: ZEntity, depth: z.number().int().min(1).max(3) })),
  nextCursor: ZCursor.nullable(),
});
export type TNeighboursPage = z.infer<typeof ZNeighboursPage>;

/** A shortest path between two nodes of one graph, at most `maxDepth` edges long. */
export const ZPathInput = z.strictObject({
  fromId: ZId,
  toId: ZId,
  maxDepth: z.number().int().min(1).max(6).default(4),
  ...traversalFilters,
});
export type TPathInput = z.infer<typeof ZPathInput>;

/** `found: false` (and empty lists) when no path of at most maxDepth edges exists. */
export const ZPathOutput = z.object({
  found: z.boolean(),
  /** Edges on the path. */
  length: z.number().int().nonnegative(),
  nodes: z.array(ZEntity),
  relationships: z.array(ZRelationship),
});
export type TPathOutput = z.infer<typeof ZPathOutput>;
