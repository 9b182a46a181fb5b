// A section that could not load: what failed, in the API's words, and a retry.
import { messageOf } from "../../api/errors";

export function LoadFailed({
  what,
  error,
  retry,
}: {
  what: string;
  error: unknown;
  retry(): void;
}) {
  return (
    <div role="alert" className="form-error load-failed">
      <span>
        Could not load {what}: {messageOf(error)}
      </span>
      <button type="button" onClick={retry}>
        Retry
      </button>
    </div>
  );
}
