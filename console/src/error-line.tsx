/** A refusal or failure said to the person, announced to screen readers; nothing when there is none. */
export function ErrorLine({ message }: { message: string | null }) {
  return message === null ? null : (
    <p class="error" role="alert">
      {message}
    </p>
  );
}
