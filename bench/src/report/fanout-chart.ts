import { IMPLEMENTATION_LABELS, type Implementation } from '../servers/bench-server'

/** One line of the chart: an implementation's delivered messages per second at each room size. */
export interface ChartSeries {
  impl: Implementation
  points: Array<{ roomSize: number; value: number }>
}

const COLORS: Record<Implementation, string> = {
  ws: '#6b7280',
  uws: '#059669',
  socketio: '#d97706',
  roomwire: '#2563eb',
  'roomwire-main': '#60a5fa',
  'roomwire-before': '#93c5fd',
}
const W = 720
const H = 400
const M = { top: 48, right: 24, bottom: 56, left: 88 }

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/**
 * A grouped bar chart, hand-written SVG: delivered messages per second (y) by room size (x), one bar
 * per implementation. No chart library, no script, readable in any browser or on GitHub.
 */
export function renderFanoutChart(series: ChartSeries[], subtitle: string): string {
  const sizes = [...new Set(series.flatMap((s) => s.points.map((p) => p.roomSize)))].sort((a, b) => a - b)
  const max = niceMax(
    Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite)),
  )
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const group = plotW / Math.max(1, sizes.length)
  const bar = (group * 0.7) / Math.max(1, series.length)
  const y = (v: number): number => M.top + plotH - (v / max) * plotH
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="600" fill="#111827">Fan-out: delivered messages per second by room size</text>`,
    `<text x="${M.left}" y="38" fill="#6b7280">${esc(subtitle)}</text>`,
  ]
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
      `<text x="${M.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#374151">${Math.round(v).toLocaleString('en-US')}</text>`,
    )
  }
  sizes.forEach((size, gi) => {
    const x0 = M.left + gi * group + group * 0.15
    series.forEach((s, si) => {
      const v = s.points.find((p) => p.roomSize === size)?.value
      if (v === undefined || !Number.isFinite(v)) return
      const x = x0 + si * bar
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(M.top + plotH - y(v)).toFixed(1)}" fill="${COLORS[s.impl]}"><title>${esc(IMPLEMENTATION_LABELS[s.impl])}, ${size} members: ${Math.round(v).toLocaleString('en-US')} msg/s</title></rect>`,
        `<text x="${(x + bar / 2 - 1).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#374151">${Math.round(v / 1000)}k</text>`,
      )
    })
    out.push(
      `<text x="${(M.left + gi * group + group / 2).toFixed(1)}" y="${M.top + plotH + 18}" text-anchor="middle" fill="#111827">${size.toLocaleString('en-US')} members</text>`,
    )
  })
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#9ca3af"/>`,
    `<text transform="translate(20 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#374151">delivered messages / s</text>`,
  )
  series.forEach((s, i) => {
    const x = M.left + i * 130
    out.push(
      `<rect x="${x}" y="${H - 22}" width="12" height="12" fill="${COLORS[s.impl]}"/>`,
      `<text x="${x + 18}" y="${H - 12}" fill="#111827">${esc(IMPLEMENTATION_LABELS[s.impl])}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
