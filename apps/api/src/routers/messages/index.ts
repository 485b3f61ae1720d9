import type { TRPCRouterRecord } from '@trpc/server';
import { append, appendMany } from './append.ts';
import { clear, deleteOne } from './delete.ts';
import { edit, versions } from './edit.ts';
import { get } from './get.ts';
import { history } from './history.ts';
import { importStream } from './import.ts';
import { rate } from './rate.ts';
import { restore, undoClear } from './restore.ts';
import { search } from './search.ts';
import { thread } from './thread.ts';

export const messagesRouter = {
  append,
  appendMany,
  import: importStream,
  history,
  get,
  thread,
  delete: deleteOne,
  clear,
  search,
  restore,
  undoClear,
  rate,
  edit,
  versions,
} satisfies TRPCRouterRecord;
