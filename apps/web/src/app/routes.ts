import { createElement, lazy, type ComponentType } from 'react';

/**
 * The pages of the app, in nav order. Adding a page is one line here: each page is its own
 * chunk (code-split), so what one page imports (a charts library, say) never loads on another.
 */
export interface PageRoute {
  /** wouter pattern, e.g. `/chat/:sessionId?`. */
  path: string;
  /** Where the nav link points; pages without a label are reachable but not in the nav. */
  href: string;
  label?: string;
  page: ComponentType;
  /** Loads the page's chunk; once it has loaded, `page` renders without suspending. */
  preload(): Promise<void>;
}

/**
 * A code-split page that can be loaded before it is first rendered. A plain `lazy` page always
 * suspends on its first render, and React then holds the revealed content back for its
 * fallback throttle (300 ms): on a cold load that wait, not the network, was most of the time
 * to the first message. main.tsx preloads the page of the address being opened, so the first
 * render has it and starts the page's queries at once.
 */
function lazyPage(load: () => Promise<{ default: ComponentType }>): Pick<PageRoute, 'page' | 'preload'> {
  let loaded: ComponentType | undefined;
  const Lazy = lazy(load);
  const preload = () =>
    load().then((module) => {
      loaded = module.default;
    });
  const page = () => createElement(loaded ?? Lazy);
  return { page, preload };
}

export const routes: PageRoute[] = [
  { path: '/chat/:sessionId?', href: '/chat', label: 'Chat', ...lazyPage(() => import('../pages/chat/ChatPage.tsx')) },
  { path: '/runs', href: '/runs', label: 'Runs', ...lazyPage(() => import('../pages/runs/RunsPage.tsx')) },
  {
    path: '/knowledge',
    href: '/knowledge',
    label: 'Knowledge',
    ...lazyPage(() => import('../pages/knowledge/KnowledgePage.tsx')),
  },
  {
    path: '/memories',
    href: '/memories',
    label: 'Memories',
    ...lazyPage(() => import('../pages/memories/MemoriesPage.tsx')),
  },
  {
    path: '/academy',
    href: '/academy',
    label: 'Academy',
    ...lazyPage(() => import('../pages/academy/AcademyPage.tsx')),
  },
  {
    path: '/operations',
    href: '/operations',
    label: 'Operations',
    ...lazyPage(() => import('../pages/operations/OperationsPage.tsx')),
  },
  { path: '/account', href: '/account', ...lazyPage(() => import('../pages/account/AccountPage.tsx')) },
];

/** Where `/` goes. */
export const HOME = '/chat';

/** The route an address opens (by its `href` prefix), `/` being HOME's. */
export function routeOf(pathname: string): PageRoute | undefined {
  const path = pathname === '/' ? HOME : pathname;
  return routes.find(({ href }) => path === href || path.startsWith(`${href}/`));
}
