import { defineProtocol } from '@roomwire/protocol'
import * as z from 'zod'
import { DOUBLE_REQUEST } from '../load/load-connection'

/** The request scenario's protocol: one typed request, `{ n }` in and `{ n: n * 2 }` out, validated both ways. */
export const BENCH_PROTOCOL = defineProtocol({
  requests: {
    [DOUBLE_REQUEST]: { input: z.object({ n: z.number() }), output: z.object({ n: z.number() }) },
  },
})

/** The trivial handler: what is measured is the request path around it. */
export const BENCH_HANDLERS = {
  [DOUBLE_REQUEST]: (input: { n: number }) => ({ n: input.n * 2 }),
}
