// TS2741: GET /blobs/{blob_id} without its required path parameter `blob_id`.
import { ImageLabelingClient } from '@image-labeling/client';

export const blob = new ImageLabelingClient({ baseUrl: 'http://127.0.0.1:3000' }).raw.GET('/blobs/{blob_id}', { params: { path: {} } });
