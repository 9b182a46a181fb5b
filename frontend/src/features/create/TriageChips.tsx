// Suggestion chips after the description loses focus: "Category: hardware · 82% · local model",
// Apply or Dismiss each.
import { confidenceText, sourceName } from "../../api/triage";
import { suggested, type Field, type Triage } from "./triageState";

const NAMES: Record<Field, string> = { category: "Category", priority: "Priority" };

export function TriageChips({
  triage,
  onApply,
  onDismiss,
}: {
  triage: Triage;
  onApply: (field: Field) => void;
  onDismiss: (field: Field) => void;
}) {
  const { suggestion } = triage;
  const open = (["category", "priority"] as const).filter((f) => !triage.decisions[f]);
  if (open.length === 0) return null;
  return (
    <ul className="chips" aria-label="Suggestions">
      {open.map((field) => {
        const value = suggested(suggestion, field);
        return (
          <li key={field} className="chip">
            <span>
              Suggested {NAMES[field].toLowerCase()}: <strong>{value}</strong>{" "}
              <span className="hint">
                {confidenceText(suggestion.confidence)} confidence · {sourceName(suggestion.source)}
              </span>
            </span>
            <button type="button" onClick={() => onApply(field)}>
              Apply {NAMES[field].toLowerCase()} {value}
            </button>
            <button type="button" onClick={() => onDismiss(field)}>
              Dismiss {NAMES[field].toLowerCase()}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
