/** A request the inbox answers with `status` and one line of text (400, 403, 404, 413, 503). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
