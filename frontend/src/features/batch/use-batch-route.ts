// The batch page lives at "#/batch"; the rest of the app keeps its own routes.
import { useSyncExternalStore } from 'react'

export const BATCH_HASH = '#/batch'

function subscribe(onChange: () => void) {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

export function useBatchRoute(): boolean {
  return useSyncExternalStore(subscribe, () => window.location.hash === BATCH_HASH)
}
