import { Suspense } from 'react';
import { Redirect, Route, Switch } from 'wouter';
import { ApiProvider } from './api.tsx';
import { AuthProvider } from './auth.tsx';
import { Layout } from './Layout.tsx';
import { HOME, routes } from './routes.ts';

export function App() {
  return (
    <AuthProvider>
      <ApiProvider>
        <Layout>
          <Suspense fallback={<p role="status">Loading…</p>}>
            <Switch>
              <Route path="/">
                <Redirect to={HOME} replace />
              </Route>
              {routes.map(({ path, page }) => (
                <Route key={path} path={path} component={page} />
              ))}
              <Route>
                <h1>Not found</h1>
                <p>There is no page at this address.</p>
              </Route>
            </Switch>
          </Suspense>
        </Layout>
      </ApiProvider>
    </AuthProvider>
  );
}
