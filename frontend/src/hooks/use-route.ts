// The current hash route, kept in sync with the address bar.
import { useCallback, useSyncExternalStore } from 'react'

import { parseRoute, type Route, routeHash } from '@/lib/route'

function subscribe(onChange: () => void) {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

const snapshot = () => window.location.hash + '|' + window.location.search

export function useRoute(): [Route, (route: Route) => void] {
  const key = useSyncExternalStore(subscribe, snapshot)
  const [hash, search] = key.split('|')
  const route = parseRoute(hash, search)
  const navigate = useCallback((next: Route) => {
    const target = routeHash(next)
    if (window.location.search) {
      // Drop a "?session=" that brought us here, so the hash is the one source of truth.
      window.history.replaceState(null, '', window.location.pathname + target)
      window.dispatchEvent(new HashChangeEvent('hashchange'))
    } else if (window.location.hash !== target) {
      window.location.hash = target
    }
  }, [])
  return [route, navigate]
}
