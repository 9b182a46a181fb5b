/** Only same-origin paths are followed after sign-in (never another site from ?next=). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/login"))
    return "/";
  return next;
}
