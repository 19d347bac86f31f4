/**
 * An unbounded push queue read as an async iterator. The socket reader pushes
 * and never waits, so a slow consumer costs memory here rather than stalling
 * the socket into the gateway's slow-consumer close (4008).
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = [];
  private readonly waiting: Array<(r: IteratorResult<T>) => void> = [];
  private ended = false;
  private readonly onReturn: () => void;

  constructor(onReturn: () => void) {
    this.onReturn = onReturn;
  }

  push(v: T): void {
    if (this.ended) return;
    const w = this.waiting.shift();
    if (w) w({ value: v, done: false });
    else this.buffered.push(v);
  }

  /** Ends the stream once what is buffered has been read. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Called by `break` in a for-await loop: stop listening and drop the rest. */
  return(): Promise<IteratorResult<T>> {
    this.buffered.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
