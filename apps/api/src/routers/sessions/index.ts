import type { TRPCRouterRecord } from '@trpc/server';
import { archive, unarchive } from './archive.ts';
import { create, getOrCreate } from './create.ts';
import { purge, restore, softDelete } from './delete.ts';
import { get } from './get.ts';
import { fork } from './fork.ts';
import { list } from './list.ts';
import { pin, tag, tags, unpin, untag } from './organize.ts';
import { complete, fail, kill, progress, start } from './run.ts';
import { update } from './update.ts';
import { watch, watchList } from './watch.ts';

export const sessionsRouter = {
  create,
  getOrCreate,
  get,
  list,
  update,
  archive,
  unarchive,
  delete: softDelete,
  restore,
  purge,
  start,
  progress,
  complete,
  fail,
  kill,
  watch,
  watchList,
  fork,
  tag,
  untag,
  tags,
  pin,
  unpin,
} satisfies TRPCRouterRecord;
