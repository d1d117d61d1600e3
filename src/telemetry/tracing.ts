import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';

/**
 * OpenTelemetry tracing, configured entirely by the standard OTEL_* variables (endpoint,
 * protocol, sampler, service name). Off unless an OTLP endpoint is set: then the hot path
 * does not even build a span. Only traces are exported; metrics are Prometheus', logs pino's.
 */
export interface Tracing {
  readonly isEnabled: boolean;
  /** Starts a span whose parent is the gateway's W3C `traceparent`, if it sent one. */
  startSpan(name: string, headers: IncomingHttpHeaders, attributes?: Attributes): Span;
  /** Ends a span, marking it as failed when `error` is given. */
  end(span: Span, error?: unknown): void;
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'unified-limit-checker';

export const disabledTracing: Tracing = {
  isEnabled: false,
  startSpan: () => trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
  end: () => undefined,
  shutdown: () => Promise.resolve(),
};

export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint === '' || env.OTEL_SDK_DISABLED === 'true') return disabledTracing;
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'unified-limit-checker',
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  const tracer: Tracer = trace.getTracer(TRACER_NAME);
  return {
    isEnabled: true,
    startSpan(name, headers, attributes) {
      const parent = propagation.extract(ROOT_CONTEXT, headers);
      return tracer.startSpan(name, { kind: SpanKind.SERVER, ...(attributes === undefined ? {} : { attributes }) }, parent);
    },
    end(span, error) {
      if (error !== undefined) {
        const failure = error instanceof Error ? error : new Error(inspect(error));
        span.recordException(failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      }
      span.end();
    },
    shutdown: () => sdk.shutdown(),
  };
}
