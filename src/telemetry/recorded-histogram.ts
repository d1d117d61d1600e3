import type { Registry } from 'prom-client';

/** One label set of a histogram: plain numbers the hot path adds to, read only at scrape time. */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** The value pairs prom-client's Registry formats (the shape its own Histogram exports). */
interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A Prometheus histogram whose observations are plain additions to a cell the caller keeps
 * (no label hashing, no validation, no allocation per observation); the registry reads the
 * cells when scraped. It exports exactly what prom-client's Histogram would for the same
 * observations: the same series, labels, order (label sets in first-use order) and values.
 */
export class RecordedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells: HistogramCell[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
    /** Histograms without labels export their one (zero) series before any observation. */
    private readonly hasLabels: boolean,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    if (!hasLabels) this.cells.push(new HistogramCell(bounds, {}));
  }

  /**
   * A new cell for a label set (the one cell, for a histogram without labels). Make it when
   * the label set is first observed and keep it: series are exported in the order made.
   */
  cell(labels: Readonly<Record<string, string>> = {}): HistogramCell {
    if (!this.hasLabels) return this.cells[0]!;
    const cell = new HistogramCell(this.bounds, labels);
    this.cells.push(cell);
    return cell;
  }

  /** Zeroes every cell (they stay bound where they are kept); labelled ones are hidden until observed again. */
  reset(): void {
    for (const cell of this.cells) cell.reset();
  }

  /** What prom-client's Registry reads for the text exposition. */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: ValuePair[]; aggregator: string }> {
    const values: ValuePair[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const cell of this.cells) {
      if (cell.count === 0 && this.hasLabels) continue;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: cell.labels, value: cumulative, metricName: bucketName, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: cell.labels, value: cell.count, metricName: bucketName, exemplar: null });
      values.push({ labels: {}, sharedLabels: cell.labels, value: cell.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: cell.labels, value: cell.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** What getMetricsAsJSON reads: the same values with the labels of each merged. */
  async get(): Promise<{ name: string; help: string; type: string; values: Omit<ValuePair, 'sharedLabels'>[]; aggregator: string }> {
    const data = await this.getForPromString();
    const values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return { ...data, values };
  }
}
