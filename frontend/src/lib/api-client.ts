// The one place that talks to the SFUMATO backend (docs/API.md).
// Every failure, an API error body, a non-JSON answer or a dropped connection, becomes an ApiError
// with a code, a readable message and a hint that says what to do next.
import type {
  CreateSessionBody,
  ChecklistItem,
  CreateSessionResponse,
  Estimate,
  OptimizeBody,
  ProvidersResponse,
  Session,
  SessionPage,
  SessionQuery,
} from './types'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: Record<string, unknown>

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

/** What the UI shows for any error: a title, the message, and what to do next. */
export interface ReadableError {
  code: string
  title: string
  message: string
  hint: string
}

type HintFn = (details: Record<string, unknown>) => string

const str = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value)

const HINTS: Record<string, { title: string; hint: string | HintFn }> = {
  validation_error: {
    title: 'Please check your input',
    hint: 'Correct the field named above and try again.',
  },
  bad_json: { title: 'The request was malformed', hint: 'Reload the page and try again.' },
  provider_not_configured: {
    title: 'This provider is not set up',
    hint: (d) =>
      `Add ${str(d.missing_key) || 'its API key'} to the .env file and restart the server, or choose the Offline demo provider.`,
  },
  invalid_prompt: {
    title: 'The prompt markup is broken',
    hint: (d) =>
      `Every "## FLEX_BEGIN:name" needs a matching "## FLEX_END:name"${
        d.line != null ? ` (look near line ${str(d.line)})` : ''
      }. Fix it in the raw text view.`,
  },
  nothing_to_optimize: {
    title: 'Nothing to improve yet',
    hint: 'Generate the first image, then ask for improvements.',
  },
  not_found: {
    title: 'Not found',
    hint: 'This session may have been deleted. Start a new one or open another from History.',
  },
  method_not_allowed: { title: 'Not allowed', hint: 'Reload the page; the app may be out of date.' },
  run_in_progress: {
    title: 'A run is already going',
    hint: 'Wait for it to finish (progress is shown live) or cancel it first.',
  },
  invalid_state: {
    title: 'Not possible right now',
    hint: "This step doesn't fit the session's current state. Reload the session to see where it stands.",
  },
  not_running: { title: 'Nothing is running', hint: 'The run has already finished.' },
  payload_too_large: {
    title: 'Too much text',
    hint: (d) =>
      `Shorten the text and try again${
        typeof d.limit_bytes === 'number'
          ? ` (the server accepts up to ${Math.floor(d.limit_bytes / 1024)} KB)`
          : ''
      }.`,
  },
  unsupported_param: {
    title: 'Setting not supported',
    hint: (d) => {
      const allowed = Array.isArray(d.allowed) ? d.allowed.map(str).join(', ') : ''
      const setting = d.value != null ? `${str(d.param)} = ${str(d.value)}` : str(d.param) || 'This setting'
      return `${setting} is not accepted by this provider.${
        allowed ? ` Allowed: ${allowed}.` : ''
      } Pick another value.`
    },
  },
  content_blocked: {
    title: 'The provider blocked this prompt',
    hint: "Rephrase the subject or constraints so they fit the provider's content policy, then try again.",
  },
  provider_auth: {
    title: 'The provider rejected the API key',
    hint: 'Check the key in .env (and that it has image access), then restart the server.',
  },
  provider_quota: {
    title: 'Provider quota exhausted',
    hint: 'Top up the account or switch to another provider.',
  },
  provider_bad_response: {
    title: 'Unexpected answer from the provider',
    hint: 'Try again; if it keeps happening, switch provider.',
  },
  provider_unavailable: {
    title: 'The provider is unavailable',
    hint: 'Try again in a minute, or switch provider.',
  },
  provider_rate_limited: {
    title: 'Rate limited by the provider',
    hint: 'Too many requests right now. Wait a minute and try again.',
  },
  provider_timeout: {
    title: 'The provider took too long',
    hint: 'Try again; smaller sizes or lower quality are faster.',
  },
  cancelled: {
    title: 'Stopped',
    hint: 'The run was cancelled while this step was in flight; finished iterations are kept.',
  },
  interrupted: {
    title: 'Interrupted by a server stop',
    hint: 'The server stopped during this run. Finished iterations are kept; start the run again to continue.',
  },
  server_stopping: {
    title: 'The server is stopping',
    hint: 'Wait for it to come back, then try again.',
  },
  server_busy: { title: 'The server is busy', hint: 'Try again in a moment.' },
  request_timeout: {
    title: 'The request took too long to send',
    hint: 'Check your connection and try again.',
  },
  unsupported_media_type: { title: 'The request was malformed', hint: 'Reload the page and try again.' },
  host_not_allowed: {
    title: 'Opened under an unknown address',
    hint: 'Open the app at http://127.0.0.1 on its port, or add this host name to ALLOWED_HOSTS.',
  },
  origin_not_allowed: {
    title: 'Request from another page refused',
    hint: 'Use the app from its own address; other pages may not call it.',
  },
  network_error: {
    title: 'Cannot reach the SFUMATO server',
    hint: 'Check that the server is running (python -m app.main) and your connection, then try again.',
  },
  http_error: {
    title: 'The server answered with an error',
    hint: 'Try again; if it keeps happening, look at the server log.',
  },
}

/** Turn anything thrown into the one readable shape the UI shows. */
export function describeError(error: unknown): ReadableError {
  // Errors recorded on a session or iteration arrive as plain {code, message, details} objects.
  if (!(error instanceof Error) && error && typeof error === 'object' && 'code' in error) {
    return describeError(errorFromBody(0, error))
  }
  if (error instanceof ApiError) {
    const entry = HINTS[error.code] ?? HINTS.http_error
    const hint = typeof entry.hint === 'function' ? entry.hint(error.details) : entry.hint
    return { code: error.code, title: entry.title, message: error.message, hint }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'unknown', title: 'Something went wrong', message, hint: HINTS.http_error.hint as string }
}

/** Build an ApiError from a `{code,message,details}` body, or a fallback for anything else. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'code' in body && 'message' in body) {
    const b = body as { code: unknown; message: unknown; details?: unknown }
    const details = b.details && typeof b.details === 'object' ? (b.details as Record<string, unknown>) : {}
    return new ApiError(status, String(b.code), String(b.message), details)
  }
  if (status === 413) {
    return new ApiError(status, 'payload_too_large', 'The request is larger than the server accepts.')
  }
  return new ApiError(status, 'http_error', `The server answered ${status}.`)
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  init: { signal?: AbortSignal } = {},
): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers:
        body === undefined
          ? { Accept: 'application/json' }
          : { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: init.signal,
    })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(0, 'network_error', 'The request did not reach the server.')
  }
  const text = await response.text()
  let parsed: unknown = undefined
  if (text) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
  }
  if (!response.ok) throw errorFromBody(response.status, parsed)
  if (parsed === undefined) {
    throw new ApiError(response.status, 'http_error', 'The server answered with something that is not JSON.')
  }
  return parsed as T
}

/** `?limit=..&q=..` from the set fields of a query ('' when none is set). */
export function queryString(query: object): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

const sessionPath = (id: string) => `/api/sessions/${encodeURIComponent(id)}`

export const api = {
  providers: (signal?: AbortSignal) =>
    request<ProvidersResponse>('GET', '/api/providers', undefined, { signal }),
  sessions: (query: SessionQuery = {}, signal?: AbortSignal) =>
    request<SessionPage>('GET', `/api/sessions${queryString(query)}`, undefined, { signal }),
  createSession: (body: CreateSessionBody) => request<CreateSessionResponse>('POST', '/api/sessions', body),
  /** A new session from one of this session's prompts (an iteration's, or null: its working one). */
  branch: (id: string, iteration: number | null) =>
    request<CreateSessionResponse>('POST', `${sessionPath(id)}/branch`, { iteration }),
  session: (id: string, signal?: AbortSignal) =>
    request<Session>('GET', sessionPath(id), undefined, { signal }),
  savePrompt: (id: string, prompt_text: string, locked_blocks: string[]) =>
    request<Session>('PUT', `${sessionPath(id)}/prompt`, { prompt_text, locked_blocks }),
  generate: (id: string) => request<Session>('POST', `${sessionPath(id)}/generate`, { wait: false }),
  feedback: (id: string, feedback: string, accepted: boolean) =>
    request<Session>('PUT', `${sessionPath(id)}/feedback`, { feedback, accepted }),
  optimize: (id: string, body: OptimizeBody) =>
    request<Session>('POST', `${sessionPath(id)}/optimize/run`, { ...body, wait: false }),
  estimate: (id: string, body: OptimizeBody, signal?: AbortSignal) =>
    request<Estimate>('POST', `${sessionPath(id)}/optimize/estimate`, body, { signal }),
  saveChecklist: (id: string, checklist: Partial<ChecklistItem>[]) =>
    request<Session>('PUT', `${sessionPath(id)}/checklist`, { checklist }),
  // Every state-changing request is JSON (the server refuses others with 415), even an empty one.
  cancel: (id: string) => request<Session>('POST', `${sessionPath(id)}/optimize/cancel`, {}),
  eventsUrl: (id: string) => `${sessionPath(id)}/events`,
  downloadUrl: (id: string) => `${sessionPath(id)}/download`,
}
