/// <reference types="vitest/config" />
// Vite builds the SPA straight into the Flask package (app/web/dist), which serves it at "/".
import { fileURLToPath } from 'node:url'

import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const backend = process.env.SFUMATO_BACKEND ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/',
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: '../app/web/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Logos are large PNGs: never inline them into the JS.
    assetsInlineLimit: 0,
  },
  server: {
    // The brand images live in <repo>/assets, outside this folder.
    fs: { allow: [repoRoot] },
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/media': { target: backend, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
})
