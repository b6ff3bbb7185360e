import { describe, expect, it, vi } from 'vitest'
import { createDirectory } from '../src/use-room-directory'

type Answer = { rooms: { name: string; people: number }[] }

/** A client whose `listRooms` answers only when the test says so. */
function pendingClient() {
  const answers: ((answer: Answer) => void)[] = []
  const request = vi.fn(
    () =>
      new Promise<Answer>((resolve) => {
        answers.push(resolve)
      }),
  )
  return { client: { request } as never, request, answer: (answer: Answer) => answers.shift()?.(answer) }
}

describe('the room directory', () => {
  it('asks once at a time: a burst of cues while one request is out costs one more, not one each', async () => {
    const { client, request, answer } = pendingClient()
    const published: ReadonlyMap<string, number>[] = []
    const directory = createDirectory(client, (counts) => published.push(counts))
    directory.refresh()
    for (let i = 0; i < 10; i++) directory.refresh()
    expect(request).toHaveBeenCalledTimes(1)
    answer({ rooms: [{ name: 'design', people: 2 }] })
    await vi.waitFor(() => expect(request).toHaveBeenCalledTimes(2))
    answer({ rooms: [{ name: 'design', people: 3 }] })
    await vi.waitFor(() => expect(published).toHaveLength(2))
    expect(published.map((counts) => counts.get('design'))).toEqual([2, 3])
    expect(request).toHaveBeenCalledTimes(2)
  })

  it('keeps the last list when a request fails, and asks again at the next cue', async () => {
    const request = vi
      .fn()
      .mockResolvedValueOnce({ rooms: [{ name: 'design', people: 1 }] })
      .mockRejectedValueOnce(Object.assign(new Error('offline'), { code: 'disconnected' }))
      .mockResolvedValueOnce({ rooms: [] })
    const published: ReadonlyMap<string, number>[] = []
    const directory = createDirectory({ request } as never, (counts) => published.push(counts))
    directory.refresh()
    await vi.waitFor(() => expect(published).toHaveLength(1))
    directory.refresh()
    await vi.waitFor(() => expect(request).toHaveBeenCalledTimes(2))
    await Promise.resolve()
    expect(published).toHaveLength(1)
    directory.refresh()
    await vi.waitFor(() => expect(published).toHaveLength(2))
    expect(published[1]?.size).toBe(0)
  })
})
