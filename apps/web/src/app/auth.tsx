import {
  ANONYMOUS_ID_STORAGE_KEY,
  rememberedAnonymousId,
  type TAuthToken,
  type ThreadstoreAuth,
} from '@threadstore/client';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/** Where a signed-in visitor's token is kept between reloads (same origin only). */
export const TOKEN_STORAGE_KEY = 'threadstore.session';

/** A signed-in local account, as auth.signUp / auth.signIn hand it out. */
export type SignedIn = TAuthToken;

/** Who the page calls the API as: the browser's anonymous id until someone signs in. */
export type Identity = { kind: 'anonymous'; anonymousId: string } | { kind: 'user'; signedIn: SignedIn };

export interface AuthState {
  identity: Identity;
  /** What the typed client sends: `X-Session-ID` for anonymous visitors, a bearer token otherwise. */
  auth: ThreadstoreAuth;
  /** The anonymous id of this browser (kept after sign-in, so its sessions can be claimed). */
  anonymousId: string;
  signedInAs(signedIn: SignedIn): void;
  signOut(): void;
}

const AuthContext = createContext<AuthState | null>(null);

function storedSignIn(storage: Storage): SignedIn | null {
  try {
    const parsed = JSON.parse(storage.getItem(TOKEN_STORAGE_KEY) ?? 'null') as SignedIn | null;
    if (parsed === null || typeof parsed.token !== 'string') return null;
    // An expired token would only earn UNAUTHORIZED answers: start anonymous instead.
    return Date.parse(parsed.expiresAt) > Date.now() ? parsed : null;
  } catch {
    return null;
  }
}

/** Keeps the identity in localStorage: the anonymous id (seed 001) and, once signed in, the token. */
export function AuthProvider({ children, storage = localStorage }: { children: ReactNode; storage?: Storage }) {
  const [anonymousId, setAnonymousId] = useState(() => rememberedAnonymousId(storage));
  const [signedIn, setSignedIn] = useState<SignedIn | null>(() => storedSignIn(storage));

  const signedInAs = useCallback(
    (next: SignedIn) => {
      storage.setItem(TOKEN_STORAGE_KEY, JSON.stringify(next));
      setSignedIn(next);
    },
    [storage],
  );
  const signOut = useCallback(() => {
    storage.removeItem(TOKEN_STORAGE_KEY);
    // Signing out starts a new anonymous visitor: the claimed sessions belong to the account now.
    storage.removeItem(ANONYMOUS_ID_STORAGE_KEY);
    setAnonymousId(rememberedAnonymousId(storage));
    setSignedIn(null);
  }, [storage]);

  const value = useMemo<AuthState>(() => {
    const identity: Identity = signedIn ? { kind: 'user', signedIn } : { kind: 'anonymous', anonymousId };
    const auth: ThreadstoreAuth = signedIn ? { token: signedIn.token } : { anonymousId };
    return { identity, auth, anonymousId, signedInAs, signOut };
  }, [anonymousId, signedIn, signedInAs, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** The current identity and the functions that change it. */
export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error('useAuth must be used inside <AuthProvider>');
  return state;
}
