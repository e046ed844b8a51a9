// The API is open unless its deployment puts an authorizer in front of it; then it answers 401
// and the page asks for a key once, keeps it in this browser (localStorage) and sends it as
// `Authorization: Bearer` on every API call (the client never sends it to the upload URL).
import { ImageLabelingClient, ProblemError } from '@image-labeling/client';
import { fetchWithUploadProgress, type UploadProgress } from './upload-fetch.ts';

const STORAGE_KEY = 'image-labeling.api-key';

export function storedApiKey(): string | undefined {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the page still works for an open API
  }
}

export function forgetApiKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

export function clientFor(onUpload?: UploadProgress): ImageLabelingClient {
  const apiKey = storedApiKey();
  return new ImageLabelingClient({
    baseUrl: location.origin,
    ...(apiKey ? { apiKey } : {}),
    ...(onUpload ? { fetch: fetchWithUploadProgress(onUpload) } : {}),
  });
}

let pendingPrompt: Promise<boolean> | undefined;

/** Shows the key dialog (once, however many calls are waiting); true when a key was saved. */
function askForKey(reason: string): Promise<boolean> {
  pendingPrompt ??= new Promise<boolean>((resolve) => {
    const dialog = document.querySelector<HTMLDialogElement>('#api-key-dialog')!;
    const input = document.querySelector<HTMLInputElement>('#api-key-input')!;
    const cancel = document.querySelector<HTMLButtonElement>('#api-key-cancel')!;
    document.querySelector('#api-key-reason')!.textContent = reason;
    input.value = '';
    cancel.onclick = () => dialog.close('cancel');
    dialog.addEventListener(
      'close',
      () => {
        const key = input.value.trim();
        const saved = dialog.returnValue === 'save' && key !== '';
        if (saved) localStorage.setItem(STORAGE_KEY, key);
        pendingPrompt = undefined;
        showKeyButton();
        resolve(saved);
      },
      { once: true },
    );
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
  return pendingPrompt;
}

/** Runs `call` with a client; on a 401 asks for a key and tries again with it. */
export async function withApiKey<T>(call: (client: ImageLabelingClient) => Promise<T>, onUpload?: UploadProgress): Promise<T> {
  for (;;) {
    try {
      return await call(clientFor(onUpload));
    } catch (error) {
      if (!(error instanceof ProblemError && error.status === 401)) throw error;
      const reason = storedApiKey() ? `The saved key was refused: ${error.message}` : error.message;
      if (!(await askForKey(reason))) throw error;
    }
  }
}

export function showKeyButton(): void {
  const button = document.querySelector<HTMLButtonElement>('#api-key-button')!;
  button.hidden = storedApiKey() === undefined;
}
