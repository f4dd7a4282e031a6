/** A readable name for a session's user agent: "Chrome on Linux", "Safari on iPhone", or the raw string's start. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) {
    return 'Unknown device';
  }
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /(Chrome|Chromium|HeadlessChrome)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua) && /Version\//.test(ua)
            ? 'Safari'
            : null;
  const system = /iPhone/.test(ua)
    ? 'iPhone'
    : /iPad/.test(ua)
      ? 'iPad'
      : /Android/.test(ua)
        ? 'Android'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Mac OS X|Macintosh/.test(ua)
            ? 'macOS'
            : /Linux|X11/.test(ua)
              ? 'Linux'
              : null;
  if (browser && system) {
    return `${browser} on ${system}`;
  }
  if (browser || system) {
    return (browser ?? system)!;
  }
  return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua;
}
