import { isThreadstoreClientError, type TChatTurn } from '@threadstore/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { isRefusal, useTRPCClient } from '../../app/api.tsx';

/** A message on its way: shown at once, marked while it fails and is retried. */
export interface PendingSend {
  clientMessageId: string;
  content: string;
  attempt: number;
  state: 'sending' | 'retrying' | 'failed';
  error: string | null;
}

const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

/** Where a turn whose answer may still be coming is remembered, so a reload can follow it. */
export const activeTurnKey = (sessionId: string) => `threadstore.activeTurn.${sessionId}`;

/**
 * chat.send with visible retries. Each message gets one clientMessageId when it is typed, and
 * every retry sends that same id: the server returns the turn it already has for it (the model
 * is not asked twice), so a send that failed after reaching the server is never doubled.
 * Network failures and 5xx are retried with backoff; a refusal (4xx) is shown and not retried.
 */
export function useSend(sessionId: string | null, onTurn: (turn: TChatTurn) => void) {
  const client = useTRPCClient();
  const [pending, setPending] = useState<PendingSend[]>([]);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const pendingTimers = timers.current;
    return () => pendingTimers.forEach(clearTimeout);
  }, []);

  const attempt = useCallback(
    async (targetSession: string, message: PendingSend) => {
      const update = (change: Partial<PendingSend>) =>
        setPending((all) => all.map((p) => (p.clientMessageId === message.clientMessageId ? { ...p, ...change } : p)));
      try {
        const turn = await client.chat.send.mutate({
          sessionId: targetSession,
          content: message.content,
          clientMessageId: message.clientMessageId,
          // Back as soon as the message is stored; the answer streams in through chat.stream.
          wait: false,
        });
        localStorage.setItem(activeTurnKey(targetSession), turn.id);
        setPending((all) => all.filter((p) => p.clientMessageId !== message.clientMessageId));
        onTurn(turn);
      } catch (error) {
        const text = isThreadstoreClientError(error) ? error.message : String(error);
        if (isRefusal(error) || message.attempt >= RETRY_DELAYS_MS.length) {
          update({ state: 'failed', error: text });
          return;
        }
        const next = { ...message, attempt: message.attempt + 1 };
        update({ state: 'retrying', error: text, attempt: next.attempt });
        const timer = setTimeout(() => {
          timers.current.delete(timer);
          void attempt(targetSession, next);
        }, RETRY_DELAYS_MS[message.attempt]);
        timers.current.add(timer);
      }
    },
    [client, onTurn],
  );

  const send = useCallback(
    (content: string, targetSession = sessionId) => {
      if (targetSession === null) return;
      const message: PendingSend = {
        clientMessageId: crypto.randomUUID(),
        content,
        attempt: 0,
        state: 'sending',
        error: null,
      };
      setPending((all) => [...all, message]);
      void attempt(targetSession, message);
    },
    [attempt, sessionId],
  );

  /** Sends a failed message again now, with its same clientMessageId. */
  const retry = useCallback(
    (clientMessageId: string) => {
      const message = pending.find((p) => p.clientMessageId === clientMessageId);
      if (message === undefined || sessionId === null) return;
      setPending((all) => all.map((p) => (p === message ? { ...p, state: 'sending' } : p)));
      void attempt(sessionId, { ...message, state: 'sending' });
    },
    [attempt, pending, sessionId],
  );

  return { pending, send, retry };
}
