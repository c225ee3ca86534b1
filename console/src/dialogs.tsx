import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ErrorLine } from './error-line.js';

export interface ReasonDialogProps {
  readonly title: string;
  /** What will happen, in a sentence. */
  readonly summary: string;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  /** More fields, shown above the reason (a segment to choose); `ready` false keeps confirm disabled until they are filled in. */
  readonly children?: ComponentChildren;
  readonly ready?: boolean;
  /** Runs the action; its ApiError is shown in the dialog. */
  readonly onConfirm: (reason: string) => Promise<void>;
  readonly onClose: () => void;
}

/**
 * A modal that asks why, then acts once: the only way to roll back or resume from the console.
 * Opening it takes a deliberate click on a separated button; confirming needs a reason typed in,
 * so nothing happens by a stray click while scrolling a list. Escape or Cancel closes it.
 */
export function ReasonDialog(props: ReasonDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (reason.trim() === '' || busy || props.ready === false) return;
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(reason.trim());
      props.onClose();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.message} (${e.errorCode ?? e.code})` : String(e));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="reason-dialog" onClose={props.onClose} aria-labelledby="dialog-title">
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="dialog-title">{props.title}</h2>
        <p>{props.summary}</p>
        {props.children}
        <label>
          Reason (recorded in history)
          <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} required autoFocus maxLength={2000} />
        </label>
        <ErrorLine message={error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class={props.danger === true ? 'danger' : 'primary'} disabled={reason.trim() === '' || busy || props.ready === false}>
            {busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
