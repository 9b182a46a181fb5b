// One column's settings as a form (a new column, or changing one): name, the statuses it shows,
// WIP limits and their enforcement, collapsed. The server judges every value; its refusal stays
// next to the field it names, the typed values stay, and Save tries again.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { messageOf } from "../../api/errors";
import { fieldErrors } from "../../api/fieldErrors";
import type { ColumnFields } from "../../api/projectSettings";
import type { Column, Status } from "../../api/types";
import { FormField } from "../create/FormField";
import { limitValue } from "./order";

const FIELDS = ["name", "status_keys", "min_limit", "max_limit", "enforce_wip", "is_collapsed"];

export function ColumnForm({
  idPrefix,
  label,
  column,
  statuses,
  takenBy,
  submitLabel,
  submit,
  onCancel,
}: {
  idPrefix: string;
  /** The form's accessible name ("Edit In Progress", "New column"). */
  label: string;
  column?: Column;
  statuses: Status[];
  /** Status key -> the name of the other column that shows it. */
  takenBy: Map<string, string>;
  submitLabel: string;
  submit(fields: ColumnFields): Promise<unknown>;
  onCancel(): void;
}) {
  const [name, setName] = useState(column?.name ?? "");
  const [keys, setKeys] = useState<string[]>(column?.statuses.map((s) => s.key) ?? []);
  const [min, setMin] = useState(column?.min_limit?.toString() ?? "");
  const [max, setMax] = useState(column?.max_limit?.toString() ?? "");
  const [enforce, setEnforce] = useState(column?.enforce_wip ?? false);
  const [collapsed, setCollapsed] = useState(column?.is_collapsed ?? false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const id = (field: string) => `${idPrefix}-${field}`;
  // A refused field gets the focus: its error is its description.
  useEffect(() => {
    if (Object.keys(errors).length > 0)
      form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
  }, [errors]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      await submit({
        name: name.trim(),
        status_keys: keys,
        min_limit: limitValue(min),
        max_limit: limitValue(max),
        enforce_wip: enforce,
        is_collapsed: collapsed,
      });
    } catch (error) {
      const own = Object.fromEntries(
        Object.entries(fieldErrors(error)).filter(([field]) => FIELDS.includes(field)),
      );
      setErrors(own);
      // A refusal that names no field of this form is said at the form's foot.
      if (Object.keys(own).length === 0) setFormError(messageOf(error));
    } finally {
      setBusy(false);
    }
  }

  const statusesError = id("status_keys-error");
  return (
    <form
      ref={form}
      className="column-form"
      aria-label={label}
      noValidate
      onSubmit={(e) => void onSubmit(e)}
    >
      <FormField id={id("name")} label="Name" error={errors.name}>
        <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
      </FormField>
      <fieldset
        className="status-picks"
        aria-invalid={errors.status_keys ? true : undefined}
        aria-describedby={errors.status_keys ? statusesError : undefined}
      >
        <legend>Statuses shown in this column</legend>
        {statuses.map((status) => {
          const other = takenBy.get(status.key);
          return (
            <label key={status.key} className={other ? "taken" : undefined}>
              <input
                type="checkbox"
                checked={keys.includes(status.key)}
                disabled={other !== undefined}
                onChange={(e) =>
                  setKeys((now) =>
                    e.target.checked
                      ? [...now, status.key]
                      : now.filter((key) => key !== status.key),
                  )
                }
              />
              {status.name}
              {other !== undefined && <span className="hint"> (in {other})</span>}
            </label>
          );
        })}
        {errors.status_keys && (
          <p id={statusesError} className="field-error">
            {errors.status_keys}
          </p>
        )}
      </fieldset>
      <div className="field-row">
        <FormField id={id("min_limit")} label="WIP minimum" error={errors.min_limit}>
          <input
            type="number"
            inputMode="numeric"
            min={0}
            placeholder="None"
            value={min}
            onChange={(e) => setMin(e.target.value)}
          />
        </FormField>
        <FormField id={id("max_limit")} label="WIP maximum" error={errors.max_limit}>
          <input
            type="number"
            inputMode="numeric"
            min={0}
            placeholder="None"
            value={max}
            onChange={(e) => setMax(e.target.value)}
          />
        </FormField>
      </div>
      <label className="check">
        <input type="checkbox" checked={enforce} onChange={(e) => setEnforce(e.target.checked)} />
        Enforce the maximum (refuse moves into a full column)
      </label>
      {errors.enforce_wip && <p className="field-error">{errors.enforce_wip}</p>}
      <label className="check">
        <input
          type="checkbox"
          checked={collapsed}
          onChange={(e) => setCollapsed(e.target.checked)}
        />
        Collapsed on the board
      </label>
      {errors.is_collapsed && <p className="field-error">{errors.is_collapsed}</p>}
      {formError && (
        <p role="alert" className="form-error">
          Not saved: {formError}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : formError ? `Try again` : submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
