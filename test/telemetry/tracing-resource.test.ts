import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceNameOf, startTracing } from '../../src/telemetry/tracing.js';

/**
 * The resource the SDK exports with, in its own file: the SDK reads the OTEL_* variables from
 * process.env and registers itself globally once per process.
 */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

const received: { resourceSpans: { resource: { attributes: OtlpAttribute[] } }[] }[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number]);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

describe('the traced service resource', () => {
  let endpoint: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('names the service unified-limit-checker only when neither OTEL_SERVICE_NAME nor a service.name resource attribute does', () => {
    expect(serviceNameOf({})).toBe('unified-limit-checker');
    expect(serviceNameOf({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod' })).toBe('unified-limit-checker');
    expect(serviceNameOf({ OTEL_SERVICE_NAME: 'risk-us' })).toBe('risk-us');
    expect(serviceNameOf({ OTEL_SERVICE_NAME: 'risk-us', OTEL_RESOURCE_ATTRIBUTES: 'service.name=risk-eu-1' })).toBe('risk-us');
    // Left to the SDK, which reads it from the attributes.
    expect(serviceNameOf({ OTEL_RESOURCE_ATTRIBUTES: 'a=b, service.name=risk-eu-1' })).toBeUndefined();
  });

  it('is off when OTEL_SDK_DISABLED is true in any case, even with an endpoint', () => {
    for (const disabled of ['true', 'TRUE', 'True', ' true ']) {
      expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: disabled }).isEnabled, disabled).toBe(false);
    }
  });

  it('takes service.name from OTEL_RESOURCE_ATTRIBUTES when OTEL_SERVICE_NAME is not set, keeping the other attributes', async () => {
    delete process.env.OTEL_SERVICE_NAME;
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=risk-eu-1',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
    const tracing = startTracing(process.env);
    expect(tracing.isEnabled).toBe(true);
    tracing.end(tracing.startSpan('ulc.check', {}));
    await tracing.shutdown();
    const attributes = received.flatMap((e) => e.resourceSpans.flatMap((r) => r.resource.attributes));
    const valueOf = (key: string) => attributes.find((a) => a.key === key)?.value.stringValue;
    expect(valueOf('service.name')).toBe('risk-eu-1');
    expect(valueOf('deployment.environment')).toBe('prod');
  });
});
