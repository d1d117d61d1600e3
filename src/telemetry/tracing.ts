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

const DEFAULT_SERVICE_NAME = 'unified-limit-checker';

export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // Booleans in OTEL_* variables are case-insensitive (the specification's "true", "TRUE", ...).
  if (endpoint === undefined || endpoint === '' || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return disabledTracing;
  const serviceName = serviceNameOf(env);
  const sdk = new NodeSDK({
    ...(serviceName === undefined ? {} : { serviceName }),
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

/**
 * OTEL_SERVICE_NAME, else undefined when OTEL_RESOURCE_ATTRIBUTES names a service.name (the SDK
 * reads it there; a name given here would override it), else this service's default name.
 */
export function serviceNameOf(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SERVICE_NAME !== undefined && env.OTEL_SERVICE_NAME.trim() !== '') return env.OTEL_SERVICE_NAME;
  const attributes = (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',');
  const named = attributes.some((pair) => {
    const [key, value] = pair.split('=');
    return key?.trim() === 'service.name' && value !== undefined && value.trim() !== '';
  });
  return named ? undefined : DEFAULT_SERVICE_NAME;
}
