/** The roomwire mark: two rooms joined by a wire. */
export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="currentColor" />
      <rect x="7" y="9" width="7" height="14" rx="2.5" fill="#fff" />
      <rect x="18" y="9" width="7" height="14" rx="2.5" fill="#fff" opacity=".75" />
      <path d="M14 16h4" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" />
    </svg>
  )
}
