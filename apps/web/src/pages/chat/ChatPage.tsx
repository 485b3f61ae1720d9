import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation, useParams } from 'wouter';
import { useTRPC } from '../../app/api.tsx';
import { Composer } from './Composer.tsx';
import { Conversation, FIRST_MESSAGE_STATE } from './Conversation.tsx';
import { SessionList } from './SessionList.tsx';

/** Chat: the conversation list beside the open conversation (or a new one). */
export default function ChatPage() {
  const { sessionId = null } = useParams<{ sessionId?: string }>();
  return (
    <div className="chat-page">
      <SessionList currentId={sessionId} />
      <section className="chat-main" aria-label="Conversation">
        {sessionId === null ? <NewConversation /> : <Conversation key={sessionId} sessionId={sessionId} />}
      </section>
    </div>
  );
}

/** No session yet: the first message creates one, titled after it, and is sent there. */
function NewConversation() {
  const trpc = useTRPC();
  const [, navigate] = useLocation();
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(trpc.sessions.create.mutationOptions());
  return (
    <>
      <h1>New conversation</h1>
      <p className="muted">Ask anything; the built-in responder answers without a model unless the server has one.</p>
      <div className="chat-spacer" />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <Composer
        disabled={create.isPending}
        onSend={(content) =>
          create.mutate(
            { title: content.slice(0, 80) },
            {
              onSuccess: (session) => navigate(`/chat/${session.id}`, { state: { [FIRST_MESSAGE_STATE]: content } }),
              onError: (caught) => setError(`Could not start the conversation: ${caught.message}`),
            },
          )
        }
      />
    </>
  );
}
