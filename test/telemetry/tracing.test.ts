import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { startTracing } from '../../src/telemetry/tracing.js';
import type { Tracing } from '../../src/telemetry/tracing.js';
import { bearer, LogCapture, testAppConfig } from '../support/app-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; arrayValue?: { values: { stringValue?: string }[] } };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A local OTLP/HTTP (JSON) receiver: what an OpenTelemetry collector would get. */
const received: OtlpExport[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

const spans = () => received.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
const attribute = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

let tracing: Tracing;

describe('OpenTelemetry tracing', () => {
  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'ulc-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
    tracing = startTracing(process.env);
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('is off when no OTLP endpoint is configured', () => {
    expect(startTracing({}).isEnabled).toBe(false);
  });

  it('continues the gateway trace with a span per check and per batch carrying the decision', async () => {
    const app = await buildApp(testAppConfig(), { clock: new FakeClock(), defaultMetrics: false, tracing, logStream: new LogCapture() });
    const traceparent = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;
    const order = { orderId: 't-1', accountId: 'A', strategyId: 'S', symbol: 'X', side: 'BUY', quantity: 2000, price: 10 };
    const check = await app.server.inject({ method: 'POST', url: '/v1/checks', headers: { ...bearer('gateway'), traceparent }, payload: order });
    expect(check.json()).toMatchObject({ decision: 'REJECT' });
    await app.server.inject({
      method: 'POST',
      url: '/v1/checks/batch',
      headers: { ...bearer('gateway'), traceparent },
      payload: { orders: [{ ...order, orderId: 't-2', quantity: 10 }] },
    });
    await app.server.close();
    await tracing.shutdown();

    const checkSpan = spans().find((s) => s.name === 'ulc.check');
    const batchSpan = spans().find((s) => s.name === 'ulc.check_batch');
    expect(checkSpan).toBeDefined();
    expect(batchSpan).toBeDefined();
    expect(checkSpan?.traceId).toBe(TRACE_ID);
    expect(checkSpan?.parentSpanId).toBe(PARENT_SPAN_ID);
    expect(attribute(checkSpan!, 'ulc.decision')?.stringValue).toBe('REJECT');
    expect(Number(attribute(checkSpan!, 'ulc.limits_evaluated')?.intValue)).toBe(2);
    expect(Number(attribute(checkSpan!, 'ulc.violations')?.intValue)).toBe(1);
    expect(attribute(checkSpan!, 'ulc.reasons')?.arrayValue?.values.map((v) => v.stringValue)).toEqual(['LIMIT_BREACH']);
    expect(batchSpan?.parentSpanId).toBe(PARENT_SPAN_ID);
    expect(attribute(batchSpan!, 'ulc.decision')?.stringValue).toBe('ACCEPT');
    expect(Number(attribute(batchSpan!, 'ulc.batch.accepted')?.intValue)).toBe(1);
    const service = received[0]?.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name');
    expect(service?.value.stringValue).toBe('ulc-under-test');
  });
});
