import { afterEach, describe, expect, it, vi } from 'vitest'

import { i18n, whenComplete } from '@/i18n'

import { api, ApiError, describeError, fieldProblems, problemText, request } from './api-client'

function answer(status: number, body: unknown, raw = false) {
  return vi.fn(async () => new Response(raw ? String(body) : JSON.stringify(body), { status }))
}

afterEach(() => vi.unstubAllGlobals())

describe('api client', () => {
  it('returns parsed JSON and sends JSON bodies', async () => {
    const fetchMock = answer(201, { session_id: 'abc', first_prompt_text: 'p', session: {} })
    vi.stubGlobal('fetch', fetchMock)
    const created = await api.createSession({ goal: 'fox', provider: 'demo' })
    expect(created.session_id).toBe('abc')
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/sessions')
    expect(init.method).toBe('POST')
    expect(JSON.parse(String(init.body))).toEqual({ goal: 'fox', provider: 'demo' })
  })

  it('sends every state-changing request as JSON, even an empty one', async () => {
    const fetchMock = answer(200, {})
    vi.stubGlobal('fetch', fetchMock)
    await api.createSession({ goal: 'fox', provider: 'demo' })
    await api.savePrompt('s1', 'p', [])
    await api.generate('s1')
    await api.feedback('s1', 'warmer', false)
    await api.optimize('s1', { iterations_count: 2, candidates: 2 })
    await api.estimate('s1', { iterations_count: 2 })
    await api.saveChecklist('s1', [{ question: 'Is it a fox?' }])
    await api.cancel('s1')
    for (const call of fetchMock.mock.calls as unknown as [string, RequestInit][]) {
      const [, init] = call
      expect(init.method).toMatch(/POST|PUT/)
      expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
      expect(typeof JSON.parse(String(init.body))).toBe('object')
    }
    expect(fetchMock).toHaveBeenCalledTimes(8)
  })

  it('turns the API error shape into an ApiError with a hint', async () => {
    vi.stubGlobal(
      'fetch',
      answer(400, {
        code: 'provider_not_configured',
        message: 'openai needs an API key',
        details: { provider: 'openai', missing_key: 'OPENAI_IMAGE_API_KEY' },
      }),
    )
    const error = await api.createSession({ goal: 'x', provider: 'openai' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    const readable = describeError(error)
    expect(readable.code).toBe('provider_not_configured')
    expect(readable.message).toBe('openai needs an API key')
    expect(readable.hint).toContain('OPENAI_IMAGE_API_KEY')
  })

  it.each([
    [
      'unsupported_param',
      { param: 'size', value: '9x9', allowed: ['1024x1024'] },
      /size = 9x9.*Allowed: 1024x1024/,
    ],
    ['run_in_progress', {}, /Wait for it to finish/],
    ['provider_rate_limited', { provider: 'grok' }, /Wait a minute/],
    ['provider_timeout', {}, /took too long|Try again/],
    ['content_blocked', {}, /Rephrase/],
    ['payload_too_large', {}, /Shorten/],
    ['invalid_prompt', { line: 4 }, /line 4/],
    ['cancelled', {}, /cancelled/],
    ['interrupted', {}, /start the run again/],
  ])('maps %s to a readable next step', (code, details, hint) => {
    expect(describeError(new ApiError(400, code, 'msg', details)).hint).toMatch(hint)
  })

  it('reports a dropped connection as network_error', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    )
    const error = await request('GET', '/api/providers').catch((e: unknown) => e)
    expect(describeError(error)).toMatchObject({
      code: 'network_error',
      title: 'Cannot reach the SFUMATO server',
    })
  })

  it('handles non-JSON error pages and oversized bodies', async () => {
    vi.stubGlobal('fetch', answer(502, '<html>Bad gateway</html>', true))
    expect(await request('GET', '/x').catch((e: ApiError) => e.code)).toBe('http_error')
    vi.stubGlobal('fetch', answer(413, '', true))
    expect(await request('POST', '/x', {}).catch((e: ApiError) => e.code)).toBe('payload_too_large')
  })

  it('builds the download and events URLs', () => {
    expect(api.downloadUrl('abc')).toBe('/api/sessions/abc/download')
    expect(api.eventsUrl('abc')).toBe('/api/sessions/abc/events')
  })
})

describe('describeError on recorded errors', () => {
  it('reads a plain {code,message,details} object stored on a session', () => {
    expect(
      describeError({ code: 'content_blocked', message: 'blocked by policy', details: {} }),
    ).toMatchObject({
      code: 'content_blocked',
      message: 'blocked by policy',
      title: 'The provider blocked this prompt',
    })
  })
})

describe('a refused body in the language on screen', () => {
  const refused = new ApiError(400, 'validation_error', 'Invalid request: goal: is 2999 characters long', {
    errors: [
      {
        field: 'goal',
        message: 'is 2999 characters long; the limit is 2000',
        type: 'string_too_long',
        max_length: 2000,
      },
      {
        field: 'iterations_count',
        message: 'must be at most 10 (MAX_ITERATIONS)',
        type: 'less_than_equal',
        le: 10,
      },
      {
        line: 3,
        field: 'json',
        message: 'Expecting value: line 1 column 9',
        type: 'json_invalid',
        column: 9,
      },
      { field: 'checklist', message: 'item 1: question: too short', type: 'value_error' },
    ],
  })

  afterEach(async () => {
    await i18n.changeLanguage('en')
  })

  it('words each problem by its type and values, after its field; an unknown type keeps the server words', async () => {
    await i18n.changeLanguage('ru')
    await whenComplete()
    expect(fieldProblems(refused).map(problemText)).toEqual([
      'goal: слишком длинный текст (не более 2000 симв.)',
      'iterations_count: должно быть не больше 10',
      'не читается как JSON (символ 9)',
      'checklist: item 1: question: too short',
    ])
    expect(describeError(refused).message).toBe(fieldProblems(refused).map(problemText).join('; '))
  })

  it('in English too, and any other error keeps its own message', async () => {
    expect(problemText(fieldProblems(refused)[0])).toBe('goal: too long (at most 2000 characters)')
    expect(fieldProblems(new ApiError(404, 'not_found', 'No session', { errors: [] }))).toEqual([])
    expect(describeError(new ApiError(404, 'not_found', 'No session')).message).toBe('No session')
  })
})
