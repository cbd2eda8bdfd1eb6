// The current hash route, kept in sync with the address bar.
import { useCallback, useSyncExternalStore } from 'react'

import { parseRoute, type Route, routeHash } from '@/lib/route'

function subscribe(onChange: () => void) {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

const snapshot = () => window.location.hash

export function useRoute(): [Route, (route: Route) => void] {
  const route = parseRoute(useSyncExternalStore(subscribe, snapshot))
  const navigate = useCallback((next: Route) => {
    const target = routeHash(next)
    if (window.location.hash !== target) window.location.hash = target
  }, [])
  return [route, navigate]
}
