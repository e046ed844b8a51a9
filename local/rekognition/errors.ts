/**
 * Typed errors for the local Rekognition stand-in. Every failure the server can report maps
 * to one of the exception names the real service uses, so `@aws-sdk/client-rekognition`
 * raises its own typed exception classes (it looks at `__type` / `x-amzn-errortype`).
 */

export type RekognitionErrorType =
  | 'InvalidImageFormatException'
  | 'ImageTooLargeException'
  | 'InvalidParameterException'
  | 'InvalidS3ObjectException'
  | 'ThrottlingException'
  | 'InternalServerError'
  | 'UnknownOperationException'
  | 'SerializationException';

export class RekognitionError extends Error {
  override readonly name = 'RekognitionError';

  constructor(
    readonly type: RekognitionErrorType,
    message: string,
    /** Rekognition answers 400 for client errors and throttling, 500 for its own faults. */
    readonly status: number = type === 'InternalServerError' ? 500 : 400,
  ) {
    super(message);
  }
}

export function isRekognitionError(value: unknown): value is RekognitionError {
  return value instanceof RekognitionError;
}
