// TS2561: `max_label` is not a field of POST /blobs (it is `max_labels`).
import { ImageLabelingClient } from '@image-labeling/client';

export const labeled = new ImageLabelingClient({ baseUrl: 'http://127.0.0.1:3000' }).labelImage('photo.jpg', { max_label: 5 });
