// The server's input limits as it ships them, used until `GET /api/providers` answers (and by
// unit tests as the limits a server gives). Generated from app/limits.py: see limits.gen.ts.
import type { Limits } from './types'
import { DEFAULT_LIMITS } from './limits.gen'

export const FALLBACK_LIMITS: Limits = DEFAULT_LIMITS
