import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, deletedAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** `academy.award`: may award XP to learners (academy.award); only administrators can create such keys. */
export const API_KEY_SCOPES = ['read', 'write', 'academy.award'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * A person. Identity comes from an OAuth/OIDC provider as (issuer, subject); self-hosted
 * installs without a provider use local accounts, which carry a password hash and the
 * issuer `threadstore-local`.
 */
export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: uuidPrimaryKey(),
    issuer: p.string().length(512),
    subject: p.string().length(512),
    email: p.string().length(320).nullable(),
    username: p.string().length(64).nullable(),
    displayName: p.string().length(256).nullable(),
    role: p.enum(USER_ROLES).default('user'),
    passwordHash: p.text().nullable().hidden(),
    lastSeenAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  uniques: [
    { name: 'users_issuer_subject_unique', properties: ['issuer', 'subject'] },
    // Case-insensitive: "Ana" and "ana" are the same login.
    {
      name: 'users_username_unique',
      expression:
        'create unique index "users_username_unique" on "users" (lower("username")) where "username" is not null',
    },
  ],
  indexes: [{ name: 'users_email_index', expression: 'create index "users_email_index" on "users" (lower("email"))' }],
  checks: [
    check('users', 'issuer_not_blank', 'length(issuer) > 0'),
    check('users', 'subject_not_blank', 'length(subject) > 0'),
  ],
  triggers: [touchUpdatedAt()],
});
export type User = InferEntity<typeof UserSchema>;

/** A key for agent backends. Only a hash is stored; the key itself is shown once at creation. */
export const ApiKeySchema = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade').index('api_keys_user_id_index'),
    name: p.string().length(128),
    // The first characters of the key, so a person can tell their keys apart in a list.
    keyPrefix: p.string().length(16),
    keyHash: p.string().length(128).unique('api_keys_key_hash_unique').hidden(),
    scopes: p.array().$type<ApiKeyScope[]>(),
    lastUsedAt: p.datetime().nullable(),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  checks: [
    check(
      'api_keys',
      'scopes',
      "cardinality(scopes) > 0 and scopes <@ array['read', 'write', 'academy.award']::text[]",
    ),
  ],
  triggers: [touchUpdatedAt()],
});
export type ApiKey = InferEntity<typeof ApiKeySchema>;

/**
 * A user's workspace: sessions, knowledge entries and memories can belong to one. Its settings
 * are a versioned document (`ZProjectSettings` in the contract). Deleting one is soft; the
 * retention worker purges it after the soft-delete grace period.
 */
export const ProjectSchema = defineEntity({
  name: 'Project',
  tableName: 'projects',
  properties: {
    id: uuidPrimaryKey(),
    owner: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    name: p.string().length(256),
    description: p.text().nullable(),
    settings: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    archivedAt: p.datetime().nullable(),
    version: p.integer().version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  uniques: [
    // A deleted project's name is free again at once: the bin must not block a new project.
    {
      name: 'projects_owner_name_unique',
      expression:
        'create unique index "projects_owner_name_unique" on "projects" ("owner_id", "name") where "deleted_at" is null',
    },
  ],
  indexes: [
    // Keyset listing per owner, newest first (projects.list).
    { name: 'projects_owner_created_index', properties: ['owner', 'createdAt', 'id'] },
    {
      name: 'projects_deleted_at_index',
      expression:
        'create index "projects_deleted_at_index" on "projects" ("deleted_at") where "deleted_at" is not null',
    },
  ],
  checks: [check('projects', 'name_not_blank', 'length(btrim(name)) > 0')],
  triggers: [touchUpdatedAt()],
});
export type Project = InferEntity<typeof ProjectSchema>;
