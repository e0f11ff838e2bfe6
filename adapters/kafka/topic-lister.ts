/** One admin client of a binding's library, as the source lists topics with it. */
export interface TopicAdmin {
  /** The names of the topics at the brokers (connecting first if need be). */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A source's topic listings (at start, then by the topic watch every few seconds: up to every 10 s
 * by default) over one admin connection for the source's life, not one per listing, which the
 * brokers saw as connection churn. A failed listing drops the connection (the next one opens
 * another); {@link close} closes it, and once the source is closed no listing opens one again.
 */
export class TopicLister {
  private admin: TopicAdmin | undefined;

  constructor(
    private readonly open: () => TopicAdmin,
    private readonly closed: () => boolean,
  ) {}

  async list(): Promise<string[]> {
    if (this.closed()) throw new Error('kafka source closed');
    this.admin ??= this.open();
    const admin = this.admin;
    try {
      return await admin.list();
    } catch (error) {
      if (this.admin === admin) this.admin = undefined;
      await admin.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close().catch(() => undefined);
  }
}
