// The S3 client: presigned uploads, reading and deleting uploaded images.
import { S3Client } from '@aws-sdk/client-s3';
import { once } from './once.ts';
import { quickService } from './timeouts.ts';

export const s3 = once(
  () =>
    new S3Client({
      requestHandler: quickService,
      // Virtual-host addressing needs DNS for bucket.localhost; any custom endpoint gets paths.
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
      // SDK >= 3.729 would otherwise sign a CRC32 of an empty body into presigned PUT URLs,
      // and every real upload would then fail its checksum.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
);
