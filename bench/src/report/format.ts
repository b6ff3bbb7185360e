import type { MetricSpec } from '../suite'

/** A figure in its unit, for a table cell. */
export function formatValue(value: number | undefined, unit: MetricSpec['unit']): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  switch (unit) {
    case 'µs':
      if (value < 10) return `${value.toFixed(2)} µs`
      return value >= 10_000
        ? `${(value / 1000).toFixed(1)} ms`
        : `${Math.round(value).toLocaleString('en-US')} µs`
    case 'ms':
      return `${Math.round(value).toLocaleString('en-US')} ms`
    case 'B':
      return value >= 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${Math.round(value)} B`
    case 'count':
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2)
    default:
      return Math.round(value).toLocaleString('en-US')
  }
}

/** A ratio as `1.23×`, or a dash. */
export function formatRatio(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)}×` : '–'
}

/** Relative spread of the runs, `±x%` of the median, to show how steady a figure is. */
export function formatSpread(values: readonly number[], median: number): string {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length < 2 || !Number.isFinite(median) || median === 0) return ''
  const spread = (Math.max(...finite) - Math.min(...finite)) / 2 / Math.abs(median)
  return ` ±${Math.round(spread * 100)}%`
}
