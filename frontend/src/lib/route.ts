// Hash routes, so a reload keeps the open session and the step on screen:
// "#/" new, "#/s/<id>" a session (its furthest step), "#/s/<id>/<step>" one step of it, "#/history".
import { STAGES, type Stage } from './flow'

export type Route = { name: 'new' } | { name: 'session'; id: string; stage?: Stage } | { name: 'history' }

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '')
  const m = /^\/s\/([A-Za-z0-9_-]+)(?:\/([a-z]+))?\/?$/.exec(h)
  if (m) {
    const stage = STAGES.find((s) => s === m[2])
    return stage ? { name: 'session', id: m[1], stage } : { name: 'session', id: m[1] }
  }
  if (h === '/history') return { name: 'history' }
  return { name: 'new' }
}

export function routeHash(route: Route): string {
  if (route.name === 'session') return `#/s/${route.id}${route.stage ? `/${route.stage}` : ''}`
  if (route.name === 'history') return '#/history'
  return '#/'
}
