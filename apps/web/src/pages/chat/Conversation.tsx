import type { TChatTurn, TMessage } from '@threadstore/client';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useTRPC, useTRPCClient } from '../../app/api.tsx';
import { Composer } from './Composer.tsx';
import { MessageView } from './MessageView.tsx';
import { activeTurnKey, useSend, type PendingSend } from './send.ts';

/** History state key under which a new conversation hands its first message over. */
export const FIRST_MESSAGE_STATE = 'threadstore.firstMessage';
/** Messages per history page: the latest page on open, older ones as the visitor scrolls up. */
export const HISTORY_PAGE = 50;
/** Load the previous page when the top is this close (px). */
const LOAD_OLDER_WITHIN = 400;

type Row =
  | { kind: 'message'; key: string; message: TMessage; streaming: boolean }
  | { kind: 'pending'; key: string; pending: PendingSend };

/** The answer being followed through chat.stream (this tab's send, or one resumed after a reload). */
interface ActiveTurn {
  id: string;
  answerId: string | null;
  text: string;
}

/**
 * One conversation: its history, newest at the bottom, older pages loaded as the visitor scrolls
 * up (a windowed list, so a session of 10,000 messages renders only what is on screen), new
 * messages live from sessions.watch (another tab's, another device's), the answer streaming in
 * through chat.stream. A reload mid-answer finds the turn it was following and resumes it.
 */
export function Conversation({ sessionId }: { sessionId: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [chapter, setChapter] = useState<string | null>(null);

  const session = useQuery(trpc.sessions.get.queryOptions({ id: sessionId }));
  const history = useInfiniteQuery({
    queryKey: [...trpc.messages.history.queryKey({ sessionId, ...(chapter === null ? {} : { chapter }) }), 'pages'],
    queryFn: ({ pageParam }) =>
      client.messages.history.query({
        sessionId,
        limit: HISTORY_PAGE,
        ...(pageParam === undefined ? {} : { before: pageParam }),
        ...(chapter === null ? {} : { chapter }),
      }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => (page.hasOlder ? page.items[0]?.seq : undefined),
    // Changes arrive through sessions.watch; refetching would only reload what is already here.
    staleTime: Infinity,
  });

  // Messages seen live (new ones, answers that grew), by id: they override the loaded pages.
  const [live, setLive] = useState<ReadonlyMap<string, TMessage>>(new Map());
  const remember = useCallback((...messages: (TMessage | null | undefined)[]) => {
    setLive((current) => {
      const next = new Map(current);
      for (const message of messages) if (message) next.set(message.id, message);
      return next;
    });
  }, []);

  // The watch starts right after the newest loaded message, so nothing between the two is missed.
  const watchFrom = useRef<string | null>(null);
  if (watchFrom.current === null && history.data) {
    watchFrom.current = String(history.data.pages[0]?.items.at(-1)?.seq ?? 0);
  }
  useSubscription(
    trpc.sessions.watch.subscriptionOptions(
      { sessionId, lastEventId: watchFrom.current },
      {
        enabled: watchFrom.current !== null,
        onData: ({ data }) => {
          if (data.type === 'message') remember(data.message);
          else queryClient.setQueryData(trpc.sessions.get.queryKey({ id: sessionId }), data.session);
        },
      },
    ),
  );

  // The answer being streamed: after a send, or after a reload that left one unfinished.
  const [active, setActive] = useState<ActiveTurn | null>(null);
  const follow = useCallback(
    (turn: TChatTurn) => {
      remember(turn.userMessage, turn.answer);
      if (turn.status === 'queued' || turn.status === 'running') {
        setActive({ id: turn.id, answerId: turn.answer?.id ?? null, text: turn.answer?.content ?? '' });
      } else {
        localStorage.removeItem(activeTurnKey(sessionId));
      }
    },
    [remember, sessionId],
  );
  useEffect(() => {
    const turnId = localStorage.getItem(activeTurnKey(sessionId));
    if (turnId === null) return;
    client.chat.turn.query({ turnId }).then(follow, () => localStorage.removeItem(activeTurnKey(sessionId)));
  }, [client, follow, sessionId]);
  const finish = useCallback(() => {
    localStorage.removeItem(activeTurnKey(sessionId));
    setActive(null);
  }, [sessionId]);
  useSubscription(
    trpc.chat.stream.subscriptionOptions(
      { turnId: active?.id ?? '' },
      {
        enabled: active !== null,
        onData: ({ data }) => {
          if (data.type === 'delta') {
            setActive((turn) => turn && { ...turn, text: turn.text.slice(0, data.offset) + data.text });
          } else {
            remember(data.turn.userMessage, data.turn.answer);
            finish();
          }
        },
        // The stored answer (from history and the watch) is what shows then.
        onError: finish,
      },
    ),
  );

  const { pending, send, retry } = useSend(sessionId, follow);

  // A conversation just created from its first message sends it once.
  useEffect(() => {
    const state = window.history.state as Record<string, unknown> | null;
    const first = state?.[FIRST_MESSAGE_STATE];
    if (typeof first !== 'string') return;
    window.history.replaceState({ ...state, [FIRST_MESSAGE_STATE]: undefined }, '');
    send(first);
  }, [send]);

  const rows = useMemo<Row[]>(() => {
    const byId = new Map<string, TMessage>();
    for (const page of history.data?.pages ?? []) for (const message of page.items) byId.set(message.id, message);
    for (const message of live.values()) {
      if (chapter === null || message.chapter === chapter) byId.set(message.id, message);
    }
    const messages = [...byId.values()].sort((a, b) => a.seq - b.seq);
    const stored = new Set(messages.map((message) => message.clientMessageId).filter(Boolean));
    return [
      ...messages.map((message): Row => {
        const streaming = active !== null && message.id === active.answerId;
        const content = streaming && active.text.length > message.content.length ? active.text : message.content;
        return { kind: 'message', key: message.id, message: { ...message, content }, streaming };
      }),
      ...pending
        .filter((p) => !stored.has(p.clientMessageId))
        .map((p): Row => ({ kind: 'pending', key: p.clientMessageId, pending: p })),
    ];
  }, [history.data, live, chapter, active, pending]);

  const chapters = useMemo(() => {
    const seen = new Set<string>();
    for (const row of rows) if (row.kind === 'message' && row.message.chapter) seen.add(row.message.chapter);
    if (chapter !== null) seen.add(chapter);
    return [...seen];
  }, [rows, chapter]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 96,
    overscan: 6,
    getItemKey: (index) => rows[index]!.key,
  });

  // Keep the view where it was when older messages are put above it; follow the bottom otherwise.
  const firstKey = useRef<string | null>(null);
  const scrollTopBefore = useRef(0);
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null || rows.length === 0) return;
    const previousFirst = firstKey.current;
    firstKey.current = rows[0]!.key;
    const prepended = previousFirst === null ? -1 : rows.findIndex((row) => row.key === previousFirst);
    if (prepended > 0) {
      element.scrollTop = (virtualizer.getOffsetForIndex(prepended, 'start')?.[0] ?? 0) + scrollTopBefore.current;
    } else if (atBottom.current) {
      virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    }
  }, [rows, virtualizer]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  const onScroll = () => {
    const element = scroller.current;
    if (element === null) return;
    scrollTopBefore.current = element.scrollTop;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    if (element.scrollTop < LOAD_OLDER_WITHIN && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  };

  const items = virtualizer.getVirtualItems();
  return (
    <>
      <div className="conversation-header">
        <h1>{session.data?.title ?? 'Conversation'}</h1>
        {chapters.length > 0 && (
          <div>
            <label htmlFor="chapter-filter" className="inline-label">
              Chapter
            </label>{' '}
            <select
              id="chapter-filter"
              value={chapter ?? ''}
              onChange={(event) => setChapter(event.target.value === '' ? null : event.target.value)}
            >
              <option value="">All chapters</option>
              {chapters.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {(history.isError || session.isError) && (
        <p role="alert" className="error">
          Could not load this conversation: {(history.error ?? session.error)?.message}
        </p>
      )}
      <div
        ref={scroller}
        className="message-scroller"
        onScroll={onScroll}
        role="log"
        aria-label="Messages"
        aria-busy={history.isLoading || isFetchingNextPage}
        tabIndex={0}
      >
        {isFetchingNextPage && <p className="muted older-loading">Loading older messages…</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index]!;
            const previous = rows[item.index - 1];
            const chapterName = row.kind === 'message' ? row.message.chapter : null;
            const previousChapter = previous?.kind === 'message' ? previous.message.chapter : null;
            return (
              <div
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="message-row"
                style={{ transform: `translateY(${item.start}px)` }}
              >
                {chapterName && chapterName !== previousChapter && <h2 className="chapter">{chapterName}</h2>}
                {row.kind === 'message' ? (
                  <MessageView message={row.message} streaming={row.streaming} />
                ) : (
                  <PendingView pending={row.pending} onRetry={retry} />
                )}
              </div>
            );
          })}
        </div>
        {history.isSuccess && rows.length === 0 && <p className="muted">No messages yet.</p>}
      </div>
      <Composer onSend={send} disabled={active !== null} />
    </>
  );
}

function PendingView({ pending, onRetry }: { pending: PendingSend; onRetry: (clientMessageId: string) => void }) {
  return (
    <article className="message message-user message-pending" aria-label="Your message, not yet stored">
      <header className="message-meta">
        <span className="message-role">You</span>
        <span className="muted" role="status">
          {' '}
          ·{' '}
          {pending.state === 'sending'
            ? 'sending…'
            : pending.state === 'retrying'
              ? `not sent (${pending.error}); retrying, attempt ${pending.attempt + 1}`
              : `not sent: ${pending.error}`}
        </span>
      </header>
      <p className="message-content">{pending.content}</p>
      {pending.state !== 'sending' && (
        <button type="button" className="secondary" onClick={() => onRetry(pending.clientMessageId)}>
          Retry now
        </button>
      )}
    </article>
  );
}
