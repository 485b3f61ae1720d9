import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { routeOf } from './app/routes.ts';
import './styles.css';

function render() {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// Load the opened page's chunk before the first render, so it renders (and starts its queries)
// without suspending. If the chunk fails to load, render anyway: the lazy page retries and its
// error shows where the page would be.
const opened = routeOf(window.location.pathname);
if (opened) void opened.preload().then(render, render);
else render();
