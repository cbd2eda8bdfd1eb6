import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'

import { App } from './app/app'
import { applyLanguage, detectLanguage, whenComplete } from './i18n'
import './index.css'

// "?session=<id>" links become the hash route, so the address bar has one source of truth.
const linked = new URLSearchParams(window.location.search).get('session')
if (linked && /^[A-Za-z0-9_-]+$/.test(linked) && !window.location.hash.startsWith('#/s/')) {
  window.history.replaceState(null, '', `${window.location.pathname}#/s/${linked}`)
}

// Fetch the code of the page asked for alongside the data instead of after it: the step the URL
// names, or every step when it names none (and off the goal form, the rest of the strings).
const STEP_CODE = {
  describe: () => import('./features/describe/describe-step'),
  prompt: () => import('./features/prompt/prompt-step'),
  review: () => import('./features/review/review-step'),
  result: () => import('./features/result/result-step'),
}
const onSession = /^#\/s\/[A-Za-z0-9_-]+(?:\/([a-z]+))?/.exec(window.location.hash)
const language = detectLanguage()
if (!(window.location.hash === '' || window.location.hash === '#/'))
  void applyLanguage(language).then(whenComplete)
// On the goal form the rest of the strings (errors among them) come with the first keystroke or tap.
const warm = () => {
  void whenComplete()
  for (const type of ['keydown', 'pointerdown'] as const) window.removeEventListener(type, warm, true)
}
for (const type of ['keydown', 'pointerdown'] as const) window.addEventListener(type, warm, true)
if (onSession) {
  const step = onSession[1] as keyof typeof STEP_CODE | undefined
  if (step && step in STEP_CODE) void STEP_CODE[step]()
  else for (const name of ['prompt', 'review', 'result'] as const) void STEP_CODE[name]()
} else if (!window.location.hash.startsWith('#/history')) {
  void STEP_CODE.describe()
}

// The catalogue of the person's language is fetched in parallel with the step's code; the first
// render waits for it, so no English flashes before Russian.
void applyLanguage(language).then(() =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
)
