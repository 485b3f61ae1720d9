import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm dev` serves the page with hot reload and sends API calls to the API on port 3000;
// `pnpm build` writes dist/, which the API serves at / (same origin, no CORS needed).
const API = process.env.THREADSTORE_API_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    // Hashed file names under assets/: the API serves them with a year-long immutable cache.
    assetsDir: 'assets',
    sourcemap: true,
  },
  server: {
    proxy: { '/trpc': API, '/api': API, '/healthz': API, '/readyz': API },
  },
});
