import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const CONTENT_TYPES = new Map<string, string>([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.jpg', 'image/jpeg'],
  ['.jpeg', 'image/jpeg'],
  ['.gif', 'image/gif'],
  ['.webp', 'image/webp'],
  ['.ico', 'image/x-icon'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.wasm', 'application/wasm'],
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
])

/** The content type served for a file name. */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES.get(extname(file).toLowerCase()) ?? 'application/octet-stream'
}

/** Map a URL path to a file under `root`, or undefined when it would leave `root` or is malformed. */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined
  const base = resolve(root)
  const file = resolve(base, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`)
  if (file !== base && !file.startsWith(base + sep)) return undefined
  return file
}

/** Whether `path` is `root` or inside it (both real, absolute paths). */
function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

/**
 * The real path of `file` (every symlink resolved) when it exists and stays under `root`'s real path;
 * undefined otherwise. A link inside the folder that points out of it (`ln -s /etc passwords`) would
 * otherwise serve whatever it points to (issue 12).
 */
async function realFileUnder(root: string, file: string): Promise<string | undefined> {
  const [realRoot, real] = await Promise.all([
    realpath(root).catch(() => undefined),
    realpath(file).catch(() => undefined),
  ])
  if (realRoot === undefined || real === undefined || !isInside(realRoot, real)) return undefined
  return real
}

/**
 * Serve a GET or HEAD from `root`: directories (and `/`) get their index.html. Returns false when no
 * file matches, or the file's real path (symlinks resolved) leaves `root`, so the caller can answer 404.
 */
export async function serveStatic(
  root: string,
  request: IncomingMessage,
  response: ServerResponse,
  urlPath: string,
): Promise<boolean> {
  let name = resolveStaticPath(root, urlPath)
  if (name === undefined) return false
  let file = await realFileUnder(root, name)
  if (file === undefined) return false
  let info = await stat(file).catch(() => undefined)
  if (info?.isDirectory()) {
    name = join(name, 'index.html')
    file = await realFileUnder(root, join(file, 'index.html'))
    if (file === undefined) return false
    info = await stat(file).catch(() => undefined)
  }
  if (info === undefined || !info.isFile()) return false
  // Typed by the name asked for (a link's target may be named otherwise); read from the checked real path.
  response.writeHead(200, {
    'content-type': contentTypeOf(name),
    'content-length': info.size,
    'x-content-type-options': 'nosniff',
    'cache-control': name.endsWith('.html') ? 'no-cache' : 'public, max-age=300',
  })
  if (request.method === 'HEAD') {
    response.end()
    return true
  }
  const stream = createReadStream(file)
  stream.on('error', () => response.destroy())
  stream.pipe(response)
  return true
}
