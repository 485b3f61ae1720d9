export { graphOf, ownerIdOf, assertOwnProject, type Graph } from './scope.ts';
export { upsertEntity, getEntity, searchEntities, mergeEntities } from './entities.ts';
export { upsertRelationship, removeRelationship, assertOwnEvidence } from './relationships.ts';
export { entityNeighbours, entityPath, DEFAULT_TRAVERSAL_BUDGET, type TraversalBudget } from './traverse.ts';
// The benchmark's bare-pg baseline runs these very statements.
export { stepStatement, nodeColumns, edgeColumns, RESOLVE_NODES } from './sql.ts';
