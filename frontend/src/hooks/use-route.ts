// The current hash route, kept in sync with the address bar. Every step is its own history entry,
// so browser Back and Forward move between steps.
import { useCallback, useSyncExternalStore } from 'react'

import { parseRoute, type Route, routeHash } from '@/lib/route'

function subscribe(onChange: () => void) {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

const snapshot = () => window.location.hash

export function useRoute(): [Route, (route: Route, opts?: { replace?: boolean }) => void] {
  const route = parseRoute(useSyncExternalStore(subscribe, snapshot))
  const navigate = useCallback((next: Route, opts: { replace?: boolean } = {}) => {
    const target = routeHash(next)
    if (window.location.hash === target) return
    if (opts.replace) {
      window.history.replaceState(window.history.state, '', target)
      window.dispatchEvent(new HashChangeEvent('hashchange'))
    } else {
      window.location.hash = target
    }
  }, [])
  return [route, navigate]
}
