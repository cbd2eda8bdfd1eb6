// Starts the real SFUMATO Flask app for the browser tests: demo mode (no API keys), a fresh
// temporary storage folder, artificial demo latency so progress and cancel can be seen.
// Playwright's webServer runs this and waits for /api/health.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const port = process.env.E2E_PORT ?? '8765'

if (!existsSync(join(repo, 'app/web/dist/index.html'))) {
  console.error('app/web/dist/index.html is missing: run `npm run build` in frontend/ before `npm run e2e`.')
  process.exit(1)
}

// Sessions in <tmp>/sessions, so the batches (kept beside the sessions folder) are this server's own
// too: with STORAGE_DIR the temporary folder itself, every run shared /tmp/batches.
const storage = mkdtempSync(join(tmpdir(), 'sfumato-e2e-'))
const env = {
  ...process.env,
  PORT: port,
  HOST: '127.0.0.1',
  STORAGE_DIR: join(storage, 'sessions'),
  DEMO_STEP_DELAY_S: '0.4',
}
// No keys: every provider but the demo reports "needs API key", and text runs offline. Empty values
// (not deletion) so a developer's .env, which the backend also reads, cannot bring keys back.
for (const key of Object.keys(env)) {
  if (/_API_KEY$/.test(key)) env[key] = ''
}
for (const key of ['OPENROUTER_API_KEY', 'OPENAI_IMAGE_API_KEY', 'GROK_API_KEY', 'NANO_BANANA_API_KEY'])
  env[key] = ''

// Poetry from PATH, or the private copy the Makefile installs in .tools/; else the project's venv;
// else plain python3.
const runs = (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0
const localPoetry = join(repo, '.tools/bin/poetry')
const venvPython = join(repo, '.venv/bin/python')
const poetry = runs('poetry') ? 'poetry' : existsSync(localPoetry) ? localPoetry : null
const [cmd, args] = poetry
  ? [poetry, ['run', 'python', '-m', 'app.main']]
  : [existsSync(venvPython) ? venvPython : (process.env.PYTHON ?? 'python3'), ['-m', 'app.main']]

// The request log is long; it goes to a file (gitignored) and is printed only if the server dies.
const logPath = fileURLToPath(new URL('./backend.log', import.meta.url))
const log = openSync(logPath, 'w')
console.error(`[e2e] ${cmd} ${args.join(' ')} on 127.0.0.1:${port}, storage ${storage}, log e2e/backend.log`)
const child = spawn(cmd, args, { cwd: repo, env, stdio: ['ignore', log, log] })

const cleanup = () => {
  rmSync(storage, { recursive: true, force: true })
}
const stop = (signal) => {
  child.kill(signal)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
child.on('exit', (code, signal) => {
  cleanup()
  if (code) {
    const tail = readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n')
    console.error(`[e2e] the backend exited with code ${code}; last lines of e2e/backend.log:\n${tail}`)
  }
  process.exit(code ?? (signal ? 0 : 1))
})
