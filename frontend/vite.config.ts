/// <reference types="vitest/config" />
// Vite builds the SPA straight into the Flask package (app/web/dist), which serves it at "/".
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))
const backend = process.env.SFUMATO_BACKEND ?? 'http://127.0.0.1:8000'

/**
 * Writes `<file>.br` and `<file>.gz` beside each built text asset, at build time, so the server
 * sends them compressed without compressing per request (app/compression.py picks one).
 */
function precompress(): Plugin {
  return {
    name: 'sfumato-precompress',
    apply: 'build',
    writeBundle(options) {
      const folder = join(options.dir ?? '../app/web/dist', 'assets')
      for (const name of readdirSync(folder)) {
        if (!/\.(js|css|svg|json|txt)$/.test(name)) continue
        const data = readFileSync(join(folder, name))
        if (data.length < 1024) continue
        const brotli = { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }
        writeFileSync(join(folder, `${name}.br`), brotliCompressSync(data, brotli))
        writeFileSync(join(folder, `${name}.gz`), gzipSync(data, { level: 9 }))
      }
    },
  }
}

export default defineConfig({
  base: '/',
  plugins: [react(), tailwindcss(), precompress()],
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
