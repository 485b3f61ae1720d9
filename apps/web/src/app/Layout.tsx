import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useAuth } from './auth.tsx';
import { routes } from './routes.ts';

/** The frame of every page: a skip link, the nav (current page marked), who is signed in. */
export function Layout({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const { identity, signOut } = useAuth();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">Threadstore</span>
        <nav aria-label="Main">
          <ul>
            {routes
              .filter((route) => route.label !== undefined)
              .map((route) => {
                const current = location === route.href || location.startsWith(`${route.href}/`);
                return (
                  <li key={route.href}>
                    <Link href={route.href} aria-current={current ? 'page' : undefined}>
                      {route.label}
                    </Link>
                  </li>
                );
              })}
          </ul>
        </nav>
        <div className="identity">
          {identity.kind === 'user' ? (
            <>
              <span data-testid="signed-in-as">
                Signed in as {identity.signedIn.user.username ?? identity.signedIn.user.email ?? 'you'}
              </span>
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : (
            <>
              <span>Anonymous</span>
              <Link href="/account">Sign in or sign up</Link>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
