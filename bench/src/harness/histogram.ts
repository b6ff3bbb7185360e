/**
 * A log-linear latency histogram in the manner of HdrHistogram: exact below 128 µs, then 64 buckets per
 * power of two (under 1.6% relative error) up to 2^31 µs. Fixed memory, mergeable across processes.
 */
const SUB_BUCKETS = 64
const LINEAR_LIMIT = 2 * SUB_BUCKETS
const MAX_VALUE = 2 ** 31 - 1
const BUCKETS = LINEAR_LIMIT + 25 * SUB_BUCKETS

/** A histogram's counts as plain data, fit for IPC: `[bucketIndex, count]` pairs. */
export type HistogramData = Array<[number, number]>

function indexOf(valueUs: number): number {
  const v = Math.min(MAX_VALUE, Math.max(0, Math.floor(valueUs)))
  if (v < LINEAR_LIMIT) return v
  const shift = 31 - Math.clz32(v) - 6
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((v >> shift) - SUB_BUCKETS)
}

function valueAt(index: number): number {
  if (index < LINEAR_LIMIT) return index
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_BUCKETS) + 1
  const top = ((index - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS
  // The middle of the bucket: the error is at most half its width either way.
  return (top << shift) + (1 << (shift - 1))
}

/** Latency histogram recording microseconds. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS)
  #total = 0
  #max = 0

  /** Record one value in microseconds. */
  record(valueUs: number): void {
    this.#counts[indexOf(valueUs)]! += 1
    this.#total += 1
    if (valueUs > this.#max) this.#max = valueUs
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#total
  }

  /** The largest value recorded, in microseconds. */
  get max(): number {
    return this.#max
  }

  /** The value below which a fraction `q` (0..1) of the recorded values fall, in microseconds. */
  percentile(q: number): number {
    if (this.#total === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil(q * this.#total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!
      if (seen >= rank) return Math.min(valueAt(i), this.#max)
    }
    return this.#max
  }

  /** The counts as `[index, count]` pairs, for sending to another process. */
  toJSON(): { buckets: HistogramData; max: number } {
    const buckets: HistogramData = []
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!])
    return { buckets, max: this.#max }
  }

  /** Add the counts of another histogram (or its `toJSON()` form). */
  merge(other: Histogram | { buckets: HistogramData; max: number }): this {
    const data = other instanceof Histogram ? other.toJSON() : other
    for (const [i, n] of data.buckets) {
      this.#counts[i]! += n
      this.#total += n
    }
    if (data.max > this.#max) this.#max = data.max
    return this
  }
}
