/**
 * `pnpm lint` runs this (issue #14's rule): no `.ts`/`.tsx` file under `packages/*\/src` over 350 lines,
 * and no function there (declaration, expression, arrow, method, constructor, accessor) spanning more than
 * 150. Functions are found with the TypeScript compiler's parser, so a brace in a string or a comment
 * cannot fool it. Prints every file and function over its limit and exits 1; prints nothing when all fit.
 * `node --import tsx scripts/check-sizes.ts [workspace]` checks another workspace's packages.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

export interface SizeLimits {
  readonly fileLines: number
  readonly functionLines: number
}

export const SIZE_LIMITS: SizeLimits = { fileLines: 350, functionLines: 150 }

/** One file or function over its limit. */
export interface SizeViolation {
  readonly file: string
  /** 1-based line where the function starts; 1 for a whole file. */
  readonly line: number
  /** `file`, or the function's name as a reader would look for it (`Class.method`, `<arrow>`). */
  readonly what: string
  readonly lines: number
  readonly limit: number
}

/** Lines as an editor counts them: a final newline does not start another line. */
export function lineCount(text: string): number {
  if (text === '') return 0
  const breaks = text.split('\n').length - 1
  return text.endsWith('\n') ? breaks : breaks + 1
}

/** What is over its limit in one source file (`file` names it in the report). */
export function checkSource(file: string, text: string, limits: SizeLimits = SIZE_LIMITS): SizeViolation[] {
  const violations: SizeViolation[] = []
  const lines = lineCount(text)
  if (lines > limits.fileLines) {
    violations.push({ file, line: 1, what: 'file', lines, limit: limits.fileLines })
  }
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind)
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      // From the function's first token (not its leading comment) to its closing token, both counted.
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const span = end - start + 1
      if (span > limits.functionLines) {
        violations.push({
          file,
          line: start + 1,
          what: functionName(node),
          lines: span,
          limit: limits.functionLines,
        })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return violations
}

/** The name a reader would search for: `name`, `Class.method`, the variable or property an arrow is in. */
function functionName(node: ts.SignatureDeclaration): string {
  const own = node.name !== undefined ? nameText(node.name) : undefined
  const holder = node.parent
  if (ts.isConstructorDeclaration(node)) return `${className(holder)}.constructor`
  if (own !== undefined) {
    return ts.isClassLike(holder) ? `${className(holder)}.${own}` : own
  }
  // An anonymous function takes the name of what it is assigned to.
  if (
    (ts.isVariableDeclaration(holder) ||
      ts.isPropertyAssignment(holder) ||
      ts.isPropertyDeclaration(holder)) &&
    holder.name !== undefined
  ) {
    const name = nameText(holder.name)
    return ts.isPropertyDeclaration(holder) ? `${className(holder.parent)}.${name}` : name
  }
  return ts.isArrowFunction(node) ? '<arrow>' : '<function>'
}

function nameText(name: ts.PropertyName | ts.BindingName): string {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)
    ? name.text
    : '<computed>'
}

function className(node: ts.Node): string {
  return ts.isClassLike(node) && node.name !== undefined ? node.name.text : '<class>'
}

/** Every `.ts`/`.tsx` file under `packages/*\/src` of the workspace at `root`, sorted. */
export function sourceFiles(root: string): string[] {
  const packages = join(root, 'packages')
  const files: string[] = []
  for (const pkg of readdirSync(packages, { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue
    const src = join(packages, pkg.name, 'src')
    let entries: string[]
    try {
      entries = readdirSync(src, { recursive: true, encoding: 'utf8' })
    } catch {
      continue // a package without src/
    }
    for (const entry of entries) {
      if (/\.tsx?$/.test(entry)) files.push(join(src, entry))
    }
  }
  return files.sort()
}

/** Every violation in the workspace at `root`, with paths relative to it. */
export function checkWorkspace(root: string, limits: SizeLimits = SIZE_LIMITS): SizeViolation[] {
  return sourceFiles(root).flatMap((path) =>
    checkSource(relative(root, path), readFileSync(path, 'utf8'), limits),
  )
}

export function formatViolation(v: SizeViolation): string {
  const what = v.what === 'file' ? 'file' : `function ${v.what}`
  return `${v.file}:${v.line}: ${what} is ${v.lines} lines (limit ${v.limit})`
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The workspace to check: this one, or the folder given (the tests check fixtures that way).
  const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url))
  const violations = checkWorkspace(root)
  if (violations.length > 0) {
    console.error(
      `Over issue 14's size rule (files ${SIZE_LIMITS.fileLines} lines, functions ${SIZE_LIMITS.functionLines}) in packages/*/src:`,
    )
    for (const v of violations) console.error(`  ${formatViolation(v)}`)
    process.exit(1)
  }
}
