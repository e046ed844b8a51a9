// Uploads a careless client makes: empty ones, and two at once to the same URL. Each blob
// ends, at once and for a stated reason, and what it reports belongs to the image it recorded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess();
});
afterAll(async () => {
  await stack?.stop();
});

const fixture = (name: string) => readFileSync(join(projectRoot, 'tests/fixtures', name));

async function newBlob() {
  const { data, error } = await stack.api.POST('/blobs', {});
  if (!data) throw new Error(`POST /blobs failed: ${JSON.stringify(error)}`);
  return { blobId: data!.blob_id, uploadUrl: data!.upload_url! };
}

async function uploadedEvent(blobId: string) {
  const { data } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: blobId } } });
  const uploaded = data!.events.find((event) => event.type === 'BlobUploaded');
  return uploaded!.data as { size_bytes: number };
}

describe('an empty upload', () => {
  it('ends FAILED INVALID_IMAGE_FORMAT at once, twenty times over, and labeling goes on for everyone', async () => {
    const empties = await Promise.all(Array.from({ length: 20 }, () => newBlob()));
    for (const { uploadUrl } of empties) {
      expect((await fetch(uploadUrl, { method: 'PUT', body: new Uint8Array(0) })).status).toBe(200);
    }
    for (const { blobId } of empties) {
      const blob = await waitForStatus(stack, blobId, ['COMPLETED', 'FAILED']);
      expect(blob.invocation_status).toBe('FAILED');
      expect(blob.failure).toEqual({ code: 'INVALID_IMAGE_FORMAT', message: expect.stringMatching(/empty \(0 bytes\)/) });
    }

    const image = await newBlob();
    expect((await fetch(image.uploadUrl, { method: 'PUT', body: fixture('chelsea.png') })).status).toBe(200);
    const labeled = await waitForStatus(stack, image.blobId, ['COMPLETED', 'FAILED']);
    expect(labeled.invocation_status).toBe('COMPLETED');
    expect(labeled.labels).toContain('Cat');
  });
});

describe('two uploads racing to one URL', () => {
  const images = {
    cat: { bytes: fixture('chelsea.png'), label: 'Cat' },
    horse: { bytes: fixture('horse.png'), label: 'Horse' },
  };

  it('label the image whose upload was recorded, or fail saying it was replaced; never a mix', async () => {
    const outcomes: string[] = [];
    // Which PUT is recorded and which one the bucket keeps is up to timing: several pairs see both.
    for (let pair = 0; pair < 6; pair++) {
      const { blobId, uploadUrl } = await newBlob();
      const [first, second] = pair % 2 === 0 ? [images.cat, images.horse] : [images.horse, images.cat];
      const puts = await Promise.all([first, second].map((image) => fetch(uploadUrl, { method: 'PUT', body: image.bytes })));
      expect(puts.map((put) => put.status)).toEqual([200, 200]);

      const blob = await waitForStatus(stack, blobId, ['COMPLETED', 'FAILED']);
      const recorded = await uploadedEvent(blobId);
      const recordedImage = recorded.size_bytes === images.cat.bytes.length ? images.cat : images.horse;
      if (blob.invocation_status === 'COMPLETED') {
        expect(blob.image?.size_bytes).toBe(recorded.size_bytes);
        expect(blob.labels).toContain(recordedImage.label);
        outcomes.push('labeled the recorded image');
      } else {
        expect(blob.failure).toEqual({ code: 'LABELING_FAILED', message: expect.stringMatching(/replaced by a later upload/) });
        outcomes.push('failed: replaced');
      }
    }
    expect(outcomes.length).toBe(6);
  });
});
