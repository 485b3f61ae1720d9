import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';

/**
 * A thing the agents talk about (a company, a person, a contract…). `canonical_key` is the
 * normalised identity within its type, so mentions from many conversations resolve to one node.
 */
export const EntityNodeSchema = defineEntity({
  name: 'EntityNode',
  tableName: 'entity_nodes',
  properties: {
    id: uuidPrimaryKey(),
    type: p.string().length(64),
    name: p.string().length(512),
    canonicalKey: p.string().length(512),
    properties: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'entity_nodes_type_canonical_key_unique', properties: ['type', 'canonicalKey'] }],
  checks: [
    check('entity_nodes', 'type_not_blank', 'length(type) > 0'),
    check('entity_nodes', 'canonical_key_not_blank', 'length(canonical_key) > 0'),
  ],
  triggers: [touchUpdatedAt()],
});
export type EntityNode = InferEntity<typeof EntityNodeSchema>;

/** A typed, weighted edge between two nodes, with a pointer to the evidence for it. */
export const EntityRelationshipSchema = defineEntity({
  name: 'EntityRelationship',
  tableName: 'entity_relationships',
  properties: {
    id: uuidPrimaryKey(),
    source: () => p.manyToOne(EntityNodeSchema).deleteRule('cascade'),
    target: () => p.manyToOne(EntityNodeSchema).deleteRule('cascade').index('entity_relationships_target_id_index'),
    type: p.string().length(64),
    weight: p.decimal('number').precision(12).scale(6).default(1),
    properties: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    evidenceRef: p.string().length(1024).nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'entity_relationships_source_target_type_unique', properties: ['source', 'target', 'type'] }],
  checks: [
    check('entity_relationships', 'weight_non_negative', 'weight >= 0'),
    check('entity_relationships', 'type_not_blank', 'length(type) > 0'),
  ],
  triggers: [touchUpdatedAt()],
});
export type EntityRelationship = InferEntity<typeof EntityRelationshipSchema>;
