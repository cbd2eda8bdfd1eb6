import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'

import { App } from './app/app'
import './index.css'

// On a session page, fetch the later steps' code alongside the session data instead of after it.
if (/^#\/s\//.test(window.location.hash) || /[?&]session=/.test(window.location.search)) {
  void import('./features/prompt/prompt-step')
  void import('./features/review/review-step')
  void import('./features/result/result-step')
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
