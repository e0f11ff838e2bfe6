// The per-second time series of a simulation: what `sluice bench` charts (throughput, backlog)
// plus what only the model sees cheaply (queue depth, paused share, drops, latency per second).
// Values are sampled at each whole second of simulated time; nothing per event is kept.

export interface SeriesPoint {
  /** End of the second (s since the start). */
  t: number;
  /** Events the producer offered during the second. */
  sent: number;
  /** Events acked (processed or dead-lettered) during the second. */
  completed: number;
  /** Events waiting in the queue (incl. set aside for a busy key) at the end of the second. */
  queueDepth: number;
  /** Events in the broker not read yet at the end of the second. */
  backlog: number;
  /** Events in a handler at the end of the second. */
  inFlight: number;
  /** Share of the second the source was paused (block policy, queue full), 0–1. */
  paused: number;
  dropped: number;
  /** Mean and max end-to-end latency of the events acked during the second (ms). */
  latencyMeanMs: number;
  latencyMaxMs: number;
}

/** Accumulates the current second; {@link close} turns it into a point. */
export class SeriesRecorder {
  readonly points: SeriesPoint[] = [];
  private completed = 0;
  private dropped = 0;
  private latencySum = 0;
  private latencyMax = 0;
  private pausedSeconds = 0;
  private lastSent = 0;

  ack(latency: number): void {
    this.completed++;
    this.latencySum += latency;
    if (latency > this.latencyMax) this.latencyMax = latency;
  }

  drop(count: number): void {
    this.dropped += count;
  }

  /** Adds a paused interval that lies inside the current second. */
  paused(seconds: number): void {
    this.pausedSeconds += seconds;
  }

  close(t: number, state: { sent: number; queueDepth: number; backlog: number; inFlight: number }): void {
    this.points.push({
      t,
      sent: state.sent - this.lastSent,
      completed: this.completed,
      queueDepth: state.queueDepth,
      backlog: state.backlog,
      inFlight: state.inFlight,
      paused: Math.min(1, this.pausedSeconds),
      dropped: this.dropped,
      latencyMeanMs: this.completed ? (this.latencySum / this.completed) * 1000 : 0,
      latencyMaxMs: this.latencyMax * 1000,
    });
    this.lastSent = state.sent;
    this.completed = 0;
    this.dropped = 0;
    this.latencySum = 0;
    this.latencyMax = 0;
    this.pausedSeconds = 0;
  }
}
