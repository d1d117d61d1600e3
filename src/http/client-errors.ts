import type { Socket } from 'node:net';
import type { ConnectionError } from 'fastify';
import type { ProblemKind } from './problems.js';
import { PROBLEM_TYPES, problemBody } from './problems.js';

/**
 * Errors Node's HTTP parser raises before there is a request to route (a body that stopped
 * arriving, headers over the size limit, bytes that are not HTTP): answered as problem+json like
 * every other error, then the connection is closed, as the parser cannot go on with it.
 */
export function clientErrorHandler(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const kind = problemKindOf(error.code);
  if (socket.writable) {
    const body = JSON.stringify(problemBody(kind, detailOf(kind)));
    const { status, title } = PROBLEM_TYPES[kind];
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function problemKindOf(code: string | undefined): ProblemKind {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'requestTimeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'headersTooLarge';
  return 'malformedHttp';
}

function detailOf(kind: ProblemKind): string {
  if (kind === 'requestTimeout') return 'the request did not arrive whole within server.requestTimeoutMs';
  if (kind === 'headersTooLarge') return 'the request headers exceed the size limit';
  return 'the request could not be parsed as HTTP/1.1';
}
