import { describe, expect, it } from 'vitest'
import { CloseCodes, closeAction } from '../src/index'

describe('closeAction', () => {
  it.each([
    [1000, 'reconnect'],
    [1001, 'reconnect'],
    [1002, 'reconnect'],
    [1006, 'reconnect'],
    [1007, 'reconnect'],
    [1008, 'policy'],
    [1009, 'drop-and-reconnect'],
    [1011, 'reconnect'],
    [1012, 'reconnect'],
    [1013, 'reconnect-slow'],
    [CloseCodes.unauthorized, 'refresh-token'],
    [CloseCodes.forbidden, 'stop'],
    [CloseCodes.slowConsumer, 'reconnect'],
    [CloseCodes.unsupportedProtocol, 'stop'],
    [4000, 'reconnect'],
    [4499, 'reconnect'],
    [4500, 'stop'],
    [4999, 'stop'],
  ])('close code %i means %s', (code, action) => {
    expect(closeAction(code)).toBe(action)
  })
})
