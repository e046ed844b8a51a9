// The Node entry: everything the browser entry has, and labelImage also takes a file path.
// Kept apart so that a browser bundle never meets node:fs.
import { readFile } from 'node:fs/promises';
import { ImageLabelingClient as BaseClient, type FinalBlob, type LabelImageOptions } from './client.js';
import type { ImageInput } from './image.js';

export * from './index.js';

export class ImageLabelingClient extends BaseClient {
  /** As the base's, and a `string` or file `URL` is read from disk. */
  override async labelImage(image: ImageInput | string | URL, options: LabelImageOptions = {}): Promise<FinalBlob> {
    const bytes = typeof image === 'string' || image instanceof URL ? await readFile(image) : image;
    return super.labelImage(bytes, options);
  }
}
