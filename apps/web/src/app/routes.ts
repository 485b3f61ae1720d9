import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

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
  page: LazyExoticComponent<ComponentType>;
}

export const routes: PageRoute[] = [
  { path: '/chat/:sessionId?', href: '/chat', label: 'Chat', page: lazy(() => import('../pages/chat/ChatPage.tsx')) },
  { path: '/runs', href: '/runs', label: 'Runs', page: lazy(() => import('../pages/runs/RunsPage.tsx')) },
  {
    path: '/knowledge',
    href: '/knowledge',
    label: 'Knowledge',
    page: lazy(() => import('../pages/knowledge/KnowledgePage.tsx')),
  },
  {
    path: '/memories',
    href: '/memories',
    label: 'Memories',
    page: lazy(() => import('../pages/memories/MemoriesPage.tsx')),
  },
  {
    path: '/academy',
    href: '/academy',
    label: 'Academy',
    page: lazy(() => import('../pages/academy/AcademyPage.tsx')),
  },
  {
    path: '/operations',
    href: '/operations',
    label: 'Operations',
    page: lazy(() => import('../pages/operations/OperationsPage.tsx')),
  },
  { path: '/account', href: '/account', page: lazy(() => import('../pages/account/AccountPage.tsx')) },
];

/** Where `/` goes. */
export const HOME = '/chat';
