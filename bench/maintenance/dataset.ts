import type { DatasetShape } from '../api/dataset.ts';

/**
 * What the maintenance benchmark seeds. Session `i` is one of three kinds, by index:
 * - [0, liveAnonymous): anonymous sessions active in the last 20 days; the API load uses these
 *   (an anonymous X-Session-ID owns each, as in the API benchmark);
 * - [liveAnonymous, liveAnonymous + liveUser): users' sessions last active 30–89 days ago, kept
 *   by the 90-day policy but past the anonymous one (a wrong policy would delete them);
 * - the rest, `expiredShare` of all: users' sessions last active more than 90 days ago.
 * Live sessions began up to 400 days ago, so their older messages sit in the same heap pages as
 * the expired sessions' messages (rows are written in time order, as traffic writes them).
 */
export interface MaintenanceShape {
  sessions: number;
  /** Average; each session gets 0.5–1.5× this many. */
  messagesPerSession: number;
  expiredShare: number;
  liveUserShare: number;
  /** One expired and one live session this long: retention empties the expired one over several batches. */
  bigSessionMessages: number;
  /** Share of sessions whose messages form a parent_id chain (agent runs, tool calls). */
  chainedShare: number;
  /** Users owning the user sessions and the memories. */
  users: number;
  /** A third each short-term, episodic and long-term; each cites a message, half of them expired ones. */
  memories: number;
  /** Time slices the messages are written in, oldest first. */
  slices: number;
  ledger: LedgerShape;
}

export interface LedgerShape {
  learners: number;
  /** The ledger the from-scratch and incremental rollups are measured on. */
  rows: number;
  /** The small ledger the incremental rollup is compared with. */
  smallRows: number;
  /** Rows added before each incremental run. */
  newRows: number;
}

export const FULL_SHAPE: MaintenanceShape = {
  sessions: 10_000,
  messagesPerSession: 400,
  expiredShare: 0.25,
  liveUserShare: 0.1,
  bigSessionMessages: 20_000,
  chainedShare: 0.2,
  users: 1_000,
  memories: 6_000,
  slices: 200,
  ledger: { learners: 10_000, rows: 1_000_000, smallRows: 100_000, newRows: 1_000 },
};

export const QUICK_SHAPE: MaintenanceShape = {
  sessions: 1_000,
  messagesPerSession: 40,
  expiredShare: 0.25,
  liveUserShare: 0.1,
  bigSessionMessages: 6_000,
  chainedShare: 0.2,
  users: 100,
  memories: 600,
  slices: 20,
  ledger: { learners: 1_000, rows: 50_000, smallRows: 5_000, newRows: 1_000 },
};

export const liveAnonymousCount = (shape: MaintenanceShape) =>
  Math.round(shape.sessions * (1 - shape.expiredShare - shape.liveUserShare));
export const liveCount = (shape: MaintenanceShape) =>
  liveAnonymousCount(shape) + Math.round(shape.sessions * shape.liveUserShare);

/** The live anonymous sessions in the API benchmark's terms, for its request builders. */
export const apiShape = (shape: MaintenanceShape): DatasetShape => ({
  sessions: liveAnonymousCount(shape),
  messagesPerSession: shape.messagesPerSession,
  bigSessionMessages: 0,
});

const USER_PREFIX = 'b0000000-0000-4000-8000-';
const LEARNER_PREFIX = 'c0000000-0000-4000-8000-';
export const userIdSql = (index: string) => `('${USER_PREFIX}' || lpad(to_hex(${index}), 12, '0'))::uuid`;
export const learnerIdSql = (index: string) => `('${LEARNER_PREFIX}' || lpad(to_hex(${index}), 12, '0'))::uuid`;
