import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'

import { App } from './app/app'
import './index.css'

// "?session=<id>" links become the hash route, so the address bar has one source of truth.
const linked = new URLSearchParams(window.location.search).get('session')
if (linked && /^[A-Za-z0-9_-]+$/.test(linked) && !window.location.hash.startsWith('#/s/')) {
  window.history.replaceState(null, '', `${window.location.pathname}#/s/${linked}`)
}

// Fetch the code of the page asked for alongside the data instead of after it.
if (/^#\/s\//.test(window.location.hash)) {
  void import('./features/prompt/prompt-step')
  void import('./features/review/review-step')
  void import('./features/result/result-step')
} else if (!window.location.hash.startsWith('#/history')) {
  void import('./features/describe/describe-step')
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
