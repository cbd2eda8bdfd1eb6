// Batch runs (docs/API.md "Batches"): start, follow, cancel, and the report files.
import { type FieldProblem, fieldProblems, request } from '@/lib/api-client'
import type { BatchBody, BatchEstimate, BatchList, BatchState } from '@/lib/types'

const batchPath = (id: string) => `/api/batches/${encodeURIComponent(id)}`

export const batchApi = {
  start: (body: BatchBody) => request<BatchState>('POST', '/api/batches', body),
  estimate: (body: BatchBody, signal?: AbortSignal) =>
    request<BatchEstimate>('POST', '/api/batches/estimate', body, { signal }),
  /** Batches since the server started, newest first. */
  list: (signal?: AbortSignal) => request<BatchList>('GET', '/api/batches', undefined, { signal }),
  get: (id: string, signal?: AbortSignal) => request<BatchState>('GET', batchPath(id), undefined, { signal }),
  cancel: (id: string) => request<BatchState>('POST', `${batchPath(id)}/cancel`, {}),
  /** Runs an interrupted or cancelled batch on: done goals kept, cut-off goals continue their sessions. */
  resume: (id: string) => request<BatchState>('POST', `${batchPath(id)}/resume`, {}),
  /** Server-Sent Events of the batch: `state` snapshots, then `done` (docs/API.md "Batches"). */
  eventsUrl: (id: string) => `${batchPath(id)}/events`,
  fileUrl: (id: string, name: string) => `${batchPath(id)}/files/${name}`,
  downloadUrl: (id: string) => `${batchPath(id)}/download`,
}

/** How many non-comment lines the pasted goals have (what the server will count as goals). */
export function countGoals(text: string): number {
  return text.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#')).length
}

export const pct = (value: number | null | undefined) => (value == null ? '–' : `${Math.round(value * 100)}%`)

export const signed = (value: number | null | undefined, digits = 1) =>
  value == null ? '–' : `${value > 0 ? '+' : ''}${value.toFixed(digits)}`

/** A goals line the server refused: its number and why (validation_error `details.errors`). */
export interface LineProblem extends FieldProblem {
  line: number
}

/** The server's line-by-line complaints from a validation error, or [] for any other error. */
export const lineProblems = (error: unknown): LineProblem[] =>
  fieldProblems(error).filter((p): p is LineProblem => typeof p.line === 'number')
