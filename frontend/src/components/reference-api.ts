// Issue 19's API as the web app uses it: the reference images of a session and editing an image.
// Every shape comes from the generated types (api.gen.ts, `make types`).
import { request } from '@/lib/api-client'
import type { components } from '@/lib/api.gen'
import type { CreateSessionBody, CreateSessionResponse, Session } from '@/lib/types'

/** A reference stored on a session (generated: Session.references). */
export type Reference = components['schemas']['Reference']
export type ReferenceRole = Reference['role']
export const REFERENCE_ROLES: readonly ReferenceRole[] = ['subject', 'style', 'composition']

/** A reference as sent to the server: the image as a data URL, its role and an optional label. */
export type ReferenceInput = Required<components['schemas']['ReferenceIn']>

/** `"mode": "edit"`: each candidate edits the current best image instead of starting again. */
export type RunMode = components['schemas']['RunInfo']['mode']
type GenerateBody = components['schemas']['GenerateRequest']

const sessionPath = (id: string) => `/api/sessions/${encodeURIComponent(id)}`

export const referenceApi = {
  /** A new session with its references (left out when there are none: the body stays as before). */
  createSession: (body: CreateSessionBody, references: ReferenceInput[]) =>
    request<CreateSessionResponse>(
      'POST',
      '/api/sessions',
      (references.length ? { ...body, references } : body) satisfies CreateSessionBody,
    ),
  /** One new image made by editing iteration `from` with a short instruction ("change only ..."). */
  edit: (id: string, from: number, instruction: string) =>
    request<Session>('POST', `${sessionPath(id)}/generate`, {
      edit_from: from,
      instruction,
      wait: false,
    } satisfies GenerateBody),
}
