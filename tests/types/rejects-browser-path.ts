// TS2345: in a browser build (no `node` export condition) labelImage takes bytes, not a path.
import { ImageLabelingClient } from '@image-labeling/client';

export const labeled = new ImageLabelingClient({ baseUrl: '/api' }).labelImage('photo.jpg');
