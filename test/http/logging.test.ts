import { describe, expect, it, vi } from 'vitest';
import { bearer, testApp, TOKENS } from '../support/app-fixtures.js';

const order = { orderId: 'l-1', accountId: 'ACC-SECRET-7', strategyId: 'S', symbol: 'X', side: 'BUY', quantity: 5000, price: 10 };

describe('logging', () => {
  it('writes one info line per risk REJECT naming the reasons and the violated limits', async () => {
    const app = await testApp();
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order });
    const lines = app.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'order rejected');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, reasons: ['LIMIT_BREACH'], violations: [{ limitId: 'max-qty', severity: 'HARD_BREACH' }] });
    await app.server.close();
  });

  it("carries the request's id on the lines a request writes (its logger is made when it first logs)", async () => {
    const app = await testApp({ server: { accessLog: true } });
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order });
    const lines = app.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = lines.filter((l) => l.msg === 'order rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reqId).toEqual(expect.any(String));
    expect(lines.filter((l) => l.reqId === rejected[0]!.reqId).map((l) => l.msg)).toEqual(['incoming request', 'order rejected', 'request completed']);
    await app.server.close();
  });

  it('makes no request logger for a request that writes nothing, and one for a request that does', async () => {
    const app = await testApp();
    const children = vi.spyOn(app.server.log, 'child');
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: { ...order, orderId: 'l-ok', quantity: 5 } });
    expect(children).toHaveBeenCalledTimes(0);
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order });
    expect(children).toHaveBeenCalledTimes(1);
    children.mockRestore();
    await app.server.close();
  });

  it('never writes a bearer token or the authorization header, even with access logs on', async () => {
    const app = await testApp({ server: { accessLog: true, logLevel: 'trace' } });
    const planted = 'Bearer sk-live-PLANTED-SECRET-123';
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: { authorization: planted }, payload: order });
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order });
    const output = app.logs.lines.join('\n');
    expect(app.logs.lines.length).toBeGreaterThan(2);
    expect(output).not.toContain('PLANTED-SECRET');
    expect(output).not.toContain(TOKENS.gateway);
    await app.server.close();
  });

  it('redacts the authorization header wherever a request is logged', async () => {
    const app = await testApp();
    app.server.log.info({ req: { headers: { authorization: 'Bearer PLANTED-IN-REQ' } }, token: 'PLANTED-TOKEN' }, 'probe');
    const output = app.logs.lines.join('\n');
    expect(output).toContain('probe');
    expect(output).not.toContain('PLANTED-IN-REQ');
    expect(output).not.toContain('PLANTED-TOKEN');
    await app.server.close();
  });

  it('redacts the fields a firm marks sensitive', async () => {
    const app = await testApp({ server: { redactPaths: ['order.accountId', 'order.price'] } });
    await app.server.inject({ method: 'POST', url: '/v1/checks', headers: bearer('gateway'), payload: order });
    const output = app.logs.lines.join('\n');
    expect(output).toContain('order rejected');
    expect(output).not.toContain('ACC-SECRET-7');
    expect(output).toContain('[redacted]');
    await app.server.close();
  });

  it('logs no per-request line by default', async () => {
    const app = await testApp();
    await app.server.inject({ method: 'GET', url: '/healthz' });
    expect(app.logs.lines.filter((l) => l.includes('incoming request') || l.includes('request completed'))).toEqual([]);
    await app.server.close();
  });
});

describe('probes', () => {
  it('ignore a stray x-deadline-ms header', async () => {
    const app = await testApp();
    const response = await app.server.inject({ method: 'GET', url: '/healthz', headers: { 'x-deadline-ms': 'soon' } });
    expect(response.statusCode).toBe(200);
    await app.server.close();
  });
});
