import { createThreadstoreClient, isThreadstoreClientError } from '@threadstore/client';
import { useState, type FormEvent } from 'react';
import { useLocation } from 'wouter';
import { API_URL, useTRPCClient } from '../../app/api.tsx';
import { useAuth } from '../../app/auth.tsx';

/**
 * Sign up or sign in with a local account. The anonymous id's sessions are claimed right after,
 * so the conversations of this browser move into the account.
 */
export default function AccountPage() {
  const client = useTRPCClient();
  const { identity, anonymousId, signedInAs } = useAuth();
  const [, navigate] = useLocation();
  const [mode, setMode] = useState<'signUp' | 'signIn'>('signUp');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get('username') ?? '');
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError(null);
    try {
      const signedIn = await client.auth[mode].mutate({ username, password });
      // Claimed as the new account, before the page switches identity.
      const asUser = createThreadstoreClient({ url: API_URL, auth: { token: signedIn.token } });
      await asUser.auth.claimAnonymous.mutate({ anonymousId });
      signedInAs(signedIn);
      navigate('/chat');
    } catch (caught) {
      setError(isThreadstoreClientError(caught) ? caught.message : 'The server could not be reached; try again.');
    } finally {
      setBusy(false);
    }
  }

  if (identity.kind === 'user') {
    return (
      <section aria-labelledby="account-title">
        <h1 id="account-title">Account</h1>
        <p>Signed in as {identity.signedIn.user.username}.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">{mode === 'signUp' ? 'Sign up' : 'Sign in'}</h1>
      <p className="muted">The conversations you had anonymously in this browser move into your account.</p>
      <form className="form-grid" onSubmit={submit} aria-describedby={error ? 'account-error' : undefined}>
        <div>
          <label htmlFor="username">Username</label>
          <input id="username" name="username" autoComplete="username" required minLength={3} />
        </div>
        <div>
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete={mode === 'signUp' ? 'new-password' : 'current-password'}
            required
            minLength={8}
          />
        </div>
        {error && (
          <p id="account-error" role="alert" className="error">
            {error}
          </p>
        )}
        <div>
          <button type="submit" disabled={busy}>
            {mode === 'signUp' ? 'Sign up' : 'Sign in'}
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setMode(mode === 'signUp' ? 'signIn' : 'signUp')}>
            {mode === 'signUp' ? 'I have an account' : 'Create an account'}
          </button>
        </div>
      </form>
    </section>
  );
}
