// The spans of one trace as a text tree, as a trace view draws them: each span under its parent,
// siblings in start order, with its service, kind, duration, attributes and span events. Ids are
// shortened to 8 hex digits. The bridge-trace test prints it, and the README's trace example is
// its output from a real run.
import type { ReceivedSpan } from './otlp-receiver.ts';

/** OTLP's SpanKind numbers (opentelemetry-proto trace/v1: SPAN_KIND_INTERNAL = 1 …). */
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const WIDTH = 110;

export const shortId = (id: string) => `${id.slice(0, 8)}…`;

const shortValue = (value: unknown) => {
  const text = String(value);
  return text.length > 28 ? `${text.slice(0, 12)}…(${text.length} chars)` : text;
};

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** `items` joined by two spaces into lines of at most WIDTH characters (an item longer stays whole). */
function wrap(items: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && line.length + 2 + item.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line}  ${item}` : item;
  }
  if (line) lines.push(line);
  return lines;
}

/** The tree of `traceId`'s spans among `spans`, one line per span plus its attribute and event lines. */
export function formatTrace(spans: readonly ReceivedSpan[], traceId: string): string {
  const inTrace = spans.filter((span) => span.traceId === traceId).sort((a, b) => a.startMs - b.startMs);
  const ids = new Set(inTrace.map((span) => span.spanId));
  const out = [`trace ${shortId(traceId)}  (${inTrace.length} spans)`];
  const draw = (span: ReceivedSpan, lead: string, branch: string, below: string) => {
    const status = span.status.code === 2 ? `  status ERROR: ${span.status.message}` : '';
    const parent = span.parentSpanId && !ids.has(span.parentSpanId) ? `  parent ${shortId(span.parentSpanId)} (not exported)` : '';
    out.push(
      `${lead}${branch}${span.resource['service.name']}  ${span.name}  ${KINDS[span.kind]}  ${ms(span.endMs - span.startMs)}  span ${shortId(span.spanId)}${parent}${status}`,
    );
    const children = inTrace.filter((child) => child.parentSpanId === span.spanId);
    const detail = `${lead}${below}${children.length > 0 ? '│  ' : '   '}`;
    const attributes = Object.entries(span.attributes).map(([key, value]) => `${key}=${shortValue(value)}`);
    for (const line of wrap(attributes, WIDTH - detail.length)) out.push(`${detail}${line}`);
    for (const event of span.events) {
      const extra = Object.entries(event.attributes).map(([key, value]) => `${key}=${shortValue(value)}`);
      out.push(`${detail}· +${ms(event.timeMs - span.startMs)}  ${event.name}${extra.length > 0 ? `  ${extra.join('  ')}` : ''}`);
    }
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      draw(child, `${lead}${below}`, last ? '└─ ' : '├─ ', last ? '   ' : '│  ');
    });
  };
  for (const root of inTrace.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId))) draw(root, '', '', '');
  return out.join('\n');
}
