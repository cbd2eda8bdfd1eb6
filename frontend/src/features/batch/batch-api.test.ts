import { afterEach, describe, expect, it, vi } from 'vitest'

import { batchApi, countGoals, pct, signed } from './batch-api'

describe('batch helpers', () => {
  it('counts goals the way the server reads the file', () => {
    expect(countGoals('a fox\n\n# note\n{"goal": "b"}\n  \n')).toBe(2)
    expect(countGoals('')).toBe(0)
  })

  it('formats rates and uplifts', () => {
    expect(pct(0.567)).toBe('57%')
    expect(pct(null)).toBe('–')
    expect(signed(12.34)).toBe('+12.3')
    expect(signed(-2)).toBe('-2.0')
    expect(signed(0)).toBe('0.0')
  })

  it('builds report links inside the batch folder', () => {
    expect(batchApi.fileUrl('abc', 'report.html')).toBe('/api/batches/abc/files/report.html')
    expect(batchApi.downloadUrl('a/b')).toBe('/api/batches/a%2Fb/download')
  })
})

describe('batch requests', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('posts the batch body as JSON and surfaces API errors', async () => {
    const fetchMock = vi.fn().mockResolvedValue(
      new Response(JSON.stringify({ code: 'validation_error', message: 'Goals line 2: bad', details: {} }), {
        status: 400,
      }),
    )
    vi.stubGlobal('fetch', fetchMock)
    await expect(
      batchApi.start({ goals: 'a\n{', provider: 'demo', iterations: 1, candidates: 1, jobs: 2 }),
    ).rejects.toMatchObject({ code: 'validation_error', message: 'Goals line 2: bad' })
    const [path, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(path).toBe('/api/batches')
    expect(init.method).toBe('POST')
    expect(JSON.parse(init.body as string)).toMatchObject({ goals: 'a\n{', jobs: 2 })
  })

  it('resumes a batch with an empty body', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValue(new Response(JSON.stringify({ batch_id: 'b1', status: 'running' }), { status: 202 }))
    vi.stubGlobal('fetch', fetchMock)
    await expect(batchApi.resume('b1')).resolves.toMatchObject({ status: 'running' })
    const [path, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(path).toBe('/api/batches/b1/resume')
    expect(init.method).toBe('POST')
    expect(JSON.parse(init.body as string)).toEqual({})
  })
})
