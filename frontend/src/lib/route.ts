// Hash routes, one union for every page, so a reload keeps what is on screen:
// "#/" new, "#/s/<id>" a session (its furthest step), "#/s/<id>/<step>" one step of it, "#/history",
// "#/batch" the batch page, "#/batch/<id>" one batch on it.
import { STAGES, type Stage } from './flow'

export type Route =
  | { name: 'new' }
  | { name: 'session'; id: string; stage?: Stage }
  | { name: 'history' }
  | { name: 'batch'; id?: string }

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '')
  const m = /^\/s\/([A-Za-z0-9_-]+)(?:\/([a-z]+))?\/?$/.exec(h)
  if (m) {
    const stage = STAGES.find((s) => s === m[2])
    return stage ? { name: 'session', id: m[1], stage } : { name: 'session', id: m[1] }
  }
  if (h === '/history') return { name: 'history' }
  const b = /^\/batch(?:\/([A-Za-z0-9_-]+))?\/?$/.exec(h)
  if (b) return b[1] ? { name: 'batch', id: b[1] } : { name: 'batch' }
  return { name: 'new' }
}

export function routeHash(route: Route): string {
  if (route.name === 'session') return `#/s/${route.id}${route.stage ? `/${route.stage}` : ''}`
  if (route.name === 'history') return '#/history'
  if (route.name === 'batch') return `#/batch${route.id ? `/${route.id}` : ''}`
  return '#/'
}
