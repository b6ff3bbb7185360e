import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `pnpm dev` serves the UI with hot reload and forwards /ws to a server started with `pnpm serve`.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['@roomwire/source'] },
  server: { proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
})
