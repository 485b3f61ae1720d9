import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core';
import { check, createdAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

/**
 * A thing the agents talk about (a company, a person, a contract…). `canonical_key` is the
 * normalised identity within its type, so mentions from many conversations resolve to one node.
 *
 * A graph belongs to an owner and optionally one of their projects: (owner, project, type,
 * canonical key) is unique, a missing project counting as one value (NULLS NOT DISTINCT).
 * `owner_id` is null only on rows written before the graph had owners (no code wrote this table
 * then); no query of the API can reach them.
 *
 * A node merged into another keeps its row as a tombstone with `merged_into_id` pointing at the
 * survivor (always directly: merging a survivor repoints its tombstones), so its id and its
 * canonical key keep resolving to the survivor. Tombstones have no relationships.
 */
export const EntityNodeSchema = defineEntity({
  name: 'EntityNode',
  tableName: 'entity_nodes',
  properties: {
    id: uuidPrimaryKey(),
    owner: () => p.manyToOne(UserSchema).nullable().deleteRule('cascade'),
    project: () => p.manyToOne(ProjectSchema).nullable().deleteRule('cascade').index('entity_nodes_project_id_index'),
    type: p.string().length(64),
    name: p.string().length(512),
    canonicalKey: p.string().length(512),
    /** Other names the thing goes by: a JSON array of strings, searched with the name. */
    aliases: p.json<string[]>().defaultRaw(`'[]'`),
    properties: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    mergedInto: () =>
      p.manyToOne(EntityNodeSchema).nullable().deleteRule('cascade').index('entity_nodes_merged_into_id_index'),
    // Name weighs more than aliases. jsonb_to_tsvector is immutable where array_to_string is not.
    searchVector: p
      .type('tsvector')
      .$type<Opt<string>>()
      .generated(
        `(setweight(to_tsvector('simple'::regconfig, (name)::text), 'A') || setweight(jsonb_to_tsvector('simple'::regconfig, aliases, '["string"]'::jsonb), 'B')) stored`,
      )
      .lazy()
      .hidden(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [
    {
      name: 'entity_nodes_identity_unique',
      expression:
        'create unique index "entity_nodes_identity_unique" on "entity_nodes" ("owner_id", "project_id", "type", "canonical_key") nulls not distinct',
    },
  ],
  indexes: [{ name: 'entity_nodes_search_vector_index', properties: ['searchVector'], type: 'gin' }],
  checks: [
    check('entity_nodes', 'type_not_blank', 'length(type) > 0'),
    check('entity_nodes', 'canonical_key_not_blank', 'length(canonical_key) > 0'),
    check('entity_nodes', 'aliases_array', "jsonb_typeof(aliases) = 'array'"),
    check('entity_nodes', 'not_merged_into_itself', 'merged_into_id <> id'),
  ],
  triggers: [touchUpdatedAt()],
});
export type EntityNode = InferEntity<typeof EntityNodeSchema>;

/**
 * A typed, directed, weighted edge between two nodes of one graph (owner and project), with its
 * evidence (messages, investigations, source URLs) and the time span in which it held.
 * (source, target, type) is unique: upserting again adds evidence to the one edge.
 */
export const EntityRelationshipSchema = defineEntity({
  name: 'EntityRelationship',
  tableName: 'entity_relationships',
  properties: {
    id: uuidPrimaryKey(),
    source: () => p.manyToOne(EntityNodeSchema).deleteRule('cascade'),
    // Not indexed alone: entity_relationships_target_source_type_index starts with it.
    target: () => p.manyToOne(EntityNodeSchema).deleteRule('cascade'),
    type: p.string().length(64),
    weight: p.decimal('number').precision(12).scale(6).default(1),
    properties: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    evidenceMessageIds: p.array().defaultRaw(`'{}'`),
    evidenceInvestigationIds: p.array().defaultRaw(`'{}'`),
    evidenceUrls: p.array().defaultRaw(`'{}'`),
    validFrom: p.datetime().nullable(),
    validTo: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'entity_relationships_source_target_type_unique', properties: ['source', 'target', 'type'] }],
  // Walking edges backwards (who points at this node) reads only this index.
  indexes: [{ name: 'entity_relationships_target_source_type_index', properties: ['target', 'source', 'type'] }],
  checks: [
    check('entity_relationships', 'weight_non_negative', 'weight >= 0'),
    check('entity_relationships', 'type_not_blank', 'length(type) > 0'),
    check('entity_relationships', 'valid_span', 'valid_to is null or valid_from is null or valid_to >= valid_from'),
  ],
  triggers: [touchUpdatedAt()],
});
export type EntityRelationship = InferEntity<typeof EntityRelationshipSchema>;
