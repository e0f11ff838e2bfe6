/**
 * A level-free wake-up: every wait() before the next notify() resolves at that notify(). All
 * waiters share one promise, so a loop that waits on several notifiers leaks nothing.
 */
export class Notifier {
  private promise: Promise<void> | undefined;
  private resolve: (() => void) | undefined;

  wait(): Promise<void> {
    this.promise ??= new Promise<void>((resolve) => (this.resolve = resolve));
    return this.promise;
  }

  notify(): void {
    const resolve = this.resolve;
    this.promise = undefined;
    this.resolve = undefined;
    resolve?.();
  }
}
