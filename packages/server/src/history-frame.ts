import type { Ref } from '@roomwire/protocol'

/** What a `history` frame answers with, before it is fitted to the frame size. */
export interface HistoryFrameInput {
  room: string
  ref: Ref
  epoch: string
  /** Encoded `message` frames, oldest first. */
  frames: readonly string[]
  /** Older messages exist before the first of `frames`. */
  more: boolean
}

/** A `history` frame as JSON text, and how many of the given messages it holds. */
export interface FittedHistoryFrame {
  text: string
  /** Messages in it: the newest `count` of those given. */
  count: number
}

/**
 * The `history` frame for a page, within `maxBytes` of UTF-8 (PROTOCOL.md, "Scrolling back"): when the
 * messages do not all fit, the newest of them that do (always at least one, so paging always moves on)
 * and `more: true`. Built from the frames' text as they were first sent, without parsing them again.
 */
export function historyFrame(input: HistoryFrameInput, maxBytes: number): FittedHistoryFrame {
  const head = `{"type":"history","room":${JSON.stringify(input.room)},"ref":${JSON.stringify(input.ref)},"epoch":${JSON.stringify(input.epoch)},"messages":[`
  // The tail is at most `],"more":false}`; counted at its longest so that the frame never goes over.
  let bytes = Buffer.byteLength(head) + 15
  let count = 0
  for (let i = input.frames.length - 1; i >= 0; i--) {
    const size = Buffer.byteLength(input.frames[i]!) + (count > 0 ? 1 : 0)
    if (count > 0 && bytes + size > maxBytes) break
    bytes += size
    count++
  }
  const kept = input.frames.slice(input.frames.length - count)
  const more = input.more || count < input.frames.length
  return { text: `${head}${kept.join(',')}],"more":${more}}`, count }
}
