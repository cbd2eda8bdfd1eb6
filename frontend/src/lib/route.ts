// Hash routes, so a reload keeps the open session: "#/" new, "#/s/<id>" a session, "#/history".
export type Route = { name: 'new' } | { name: 'session'; id: string } | { name: 'history' }

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '')
  const m = /^\/s\/([A-Za-z0-9_-]+)\/?$/.exec(h)
  if (m) return { name: 'session', id: m[1] }
  if (h === '/history') return { name: 'history' }
  return { name: 'new' }
}

export function routeHash(route: Route): string {
  if (route.name === 'session') return `#/s/${route.id}`
  if (route.name === 'history') return '#/history'
  return '#/'
}
