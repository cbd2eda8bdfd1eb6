// Hash routes, so a reload keeps the open session: "#/" new, "#/s/<id>" a session, "#/history".
export type Route = { name: 'new' } | { name: 'session'; id: string } | { name: 'history' }

export function parseRoute(hash: string, search = ''): Route {
  const h = hash.replace(/^#/, '')
  const m = /^\/s\/([A-Za-z0-9_-]+)\/?$/.exec(h)
  if (m) return { name: 'session', id: m[1] }
  if (h === '/history') return { name: 'history' }
  const fromQuery = new URLSearchParams(search).get('session')
  if (fromQuery && /^[A-Za-z0-9_-]+$/.test(fromQuery)) return { name: 'session', id: fromQuery }
  return { name: 'new' }
}

export function routeHash(route: Route): string {
  if (route.name === 'session') return `#/s/${route.id}`
  if (route.name === 'history') return '#/history'
  return '#/'
}
