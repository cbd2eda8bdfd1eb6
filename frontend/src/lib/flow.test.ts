import { describe, expect, it } from 'vitest'

import { makeIteration, makeSession, makeRun } from '@/test/fixtures'

import { canEditPrompt, stageOf } from './flow'
import { parseRoute, routeHash } from './route'

const run = (kind: 'generate' | 'optimize' | 'accept') => makeRun({ kind })

describe('stageOf', () => {
  it('follows a session through the four steps', () => {
    expect(stageOf(null)).toBe('describe')
    expect(stageOf(makeSession())).toBe('prompt')
    expect(stageOf(makeSession({ status: 'running', run: run('generate') }))).toBe('review')
    expect(stageOf(makeSession({ iterations: [makeIteration(0)], run: run('generate') }))).toBe('review')
    expect(
      stageOf(makeSession({ status: 'running', iterations: [makeIteration(0)], run: run('optimize') })),
    ).toBe('result')
    expect(stageOf(makeSession({ status: 'done', accepted: true, iterations: [makeIteration(0)] }))).toBe(
      'result',
    )
  })

  it('lets the prompt be edited only before any optimize run', () => {
    expect(canEditPrompt(makeSession({ iterations: [makeIteration(0)] }))).toBe(true)
    expect(canEditPrompt(makeSession({ status: 'running', run: run('generate') }))).toBe(false)
    expect(canEditPrompt(makeSession({ iterations: [makeIteration(0), makeIteration(1)] }))).toBe(false)
  })
})

describe('routes', () => {
  it('parses and builds hash routes', () => {
    expect(parseRoute('#/s/abc123')).toEqual({ name: 'session', id: 'abc123' })
    expect(parseRoute('#/history')).toEqual({ name: 'history' })
    expect(parseRoute('')).toEqual({ name: 'new' })
    expect(parseRoute('#/s/../etc')).toEqual({ name: 'new' })
    expect(routeHash({ name: 'session', id: 'abc' })).toBe('#/s/abc')
    expect(parseRoute('#/s/abc/review')).toEqual({ name: 'session', id: 'abc', stage: 'review' })
    expect(parseRoute('#/s/abc/nope')).toEqual({ name: 'session', id: 'abc' })
    expect(routeHash({ name: 'session', id: 'abc', stage: 'result' })).toBe('#/s/abc/result')
    expect(parseRoute('#/batch')).toEqual({ name: 'batch' })
    expect(parseRoute('#/batch/4f2a')).toEqual({ name: 'batch', id: '4f2a' })
    expect(parseRoute('#/batch/../etc')).toEqual({ name: 'new' })
    expect(routeHash({ name: 'batch' })).toBe('#/batch')
    expect(routeHash({ name: 'batch', id: '4f2a' })).toBe('#/batch/4f2a')
  })
})
