/**
 * A `.` or `..` path segment in a resource URI, plain or percent-encoded (`%2e`, any case), between
 * slashes or backslashes or at the end of the path. A server that resolves it reads something other
 * than the URI's text says (`file:///docs/../etc/passwd` under a `file:///docs/*` pattern), so the
 * policy decides on no such URI: it is never public and no rule allows it.
 */
const DOT_SEGMENT = /(?:^|[/\\])(?:\.|%2e){1,2}(?=[/\\?#]|$)/i;

export const hasDotSegment = (uri: string): boolean => DOT_SEGMENT.test(uri);
