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
import { formatNumber, i18n, t, whenComplete } from '@/i18n'

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

const str = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value)

/**
 * Every error code the API can answer (app/errors.py, docs/API.md) has a title and a hint in each
 * catalogue under `errors.<code>`; these build the values some hints name from `details`.
 */
const HINT_VALUES: Record<string, (details: Record<string, unknown>) => Record<string, unknown>> = {
  provider_not_configured: (d) => ({ key: str(d.missing_key) || t('errors.provider_not_configured.itsKey') }),
  invalid_prompt: (d) => ({
    near: d.line != null ? t('errors.invalid_prompt.near', { line: str(d.line) }) : '',
  }),
  payload_too_large: (d) => ({
    limit:
      typeof d.limit_bytes === 'number'
        ? t('errors.payload_too_large.limit', { kb: formatNumber(Math.floor(d.limit_bytes / 1024)) })
        : '',
  }),
  unsupported_param: (d) => {
    const allowed = Array.isArray(d.allowed) ? d.allowed.map(str).join(', ') : ''
    return {
      setting:
        d.value != null
          ? `${str(d.param)} = ${str(d.value)}`
          : str(d.param) || t('errors.unsupported_param.thisSetting'),
      allowed: allowed ? t('errors.unsupported_param.allowed', { allowed }) : '',
    }
  },
}

/**
 * One problem of a refused value (`validation_error` `details.errors`): its field, the server's
 * English words, and the `type` and values (`max_length`, `line`, ...) a catalogue words it by.
 */
export interface FieldProblem {
  field?: string
  message: string
  type?: string
  [value: string]: unknown
}

// Fields that name no field a person could look for: the problem is the whole line or file.
const WHOLE = new Set(['json', 'file', 'line', 'body', 'value'])

/** A problem in the language on screen: `validation.<type>` where the catalogue has it (with the
 * values the problem names), else the server's words; after the field it is about. */
export function problemText(problem: FieldProblem): string {
  const key = `validation.${problem.type}`
  const words = problem.type && i18n.exists(key) ? t(key, problem) : problem.message
  return problem.field && !WHOLE.has(problem.field) ? `${problem.field}: ${words}` : words
}

/** The problems a validation error lists (`details.errors`), or [] for any other error. */
export function fieldProblems(error: unknown): FieldProblem[] {
  if (!(error instanceof ApiError) || error.code !== 'validation_error') return []
  const errors = Array.isArray(error.details.errors) ? (error.details.errors as unknown[]) : []
  return errors.flatMap((e) =>
    e && typeof e === 'object' && typeof (e as FieldProblem).message === 'string' ? [e as FieldProblem] : [],
  )
}

/** Whether the catalogue has words for this code (unknown codes show the server's own message). */
export const knownErrorCode = (code: string): boolean => i18n.exists(`errors.${code}.title`)

/** Turn anything thrown into the one readable shape the UI shows, in the language on screen. */
export function describeError(error: unknown): ReadableError {
  // Errors recorded on a session or iteration arrive as plain {code, message, details} objects.
  if (!(error instanceof Error) && error && typeof error === 'object' && 'code' in error) {
    return describeError(errorFromBody(0, error))
  }
  if (error instanceof ApiError) {
    if (!knownErrorCode('http_error')) {
      // The error words are not here yet (the goal form loads them on first use): the server's own.
      void whenComplete()
      return { code: error.code, title: error.message, message: '', hint: '' }
    }
    const code = knownErrorCode(error.code) ? error.code : 'http_error'
    const values = HINT_VALUES[code]?.(error.details) ?? {}
    const problems = fieldProblems(error)
    return {
      code: error.code,
      title: t(`errors.${code}.title`),
      // A refused body's problems in the language on screen; any other error, the server's words.
      message: problems.length ? problems.map(problemText).join('; ') : error.message,
      hint: t(`errors.${code}.hint`, values),
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  if (!knownErrorCode('unknown')) return { code: 'unknown', title: message, message: '', hint: '' }
  return { code: 'unknown', title: t('errors.unknown.title'), message, hint: t('errors.http_error.hint') }
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
