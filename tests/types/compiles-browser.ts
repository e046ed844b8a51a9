// A browser program (bundler resolution, DOM lib): bytes and Blobs, an AbortSignal.
import { ImageLabelingClient } from '@image-labeling/client';

const client = new ImageLabelingClient({ baseUrl: '/api' });

export async function label(file: File, signal: AbortSignal): Promise<string | undefined> {
  const blob = await client.labelImage(file, { signal, onProgress: ({ stage, blob }) => console.log(stage, blob.invocation_status) });
  return blob.labels?.[0];
}
