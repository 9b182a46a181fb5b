// The client_mutation_id of every move this tab sent: its echo on the socket is ours and is skipped.
const own = new Set<string>();

export function newMutationId(): string {
  const id =
    typeof crypto !== "undefined" && "randomUUID" in crypto
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  own.add(id);
  if (own.size > 500) own.delete(own.values().next().value as string);
  return id;
}

export function isOwnMutation(id: unknown): boolean {
  return typeof id === "string" && own.has(id);
}
