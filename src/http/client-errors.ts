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
  if (socket.writable && mayAnswer(socket)) {
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

/**
 * Whether the problem can be this connection's next response. Not while one is under way or
 * owed to an earlier request (an event stream; a pipelined request still waiting for its
 * journal write): the problem would land inside it or be taken for it, so the connection just
 * closes. A request whose body stopped arriving is owed its own answer: that is the 408.
 */
function mayAnswer(socket: Socket): boolean {
  // Node's HTTP server keeps the response a connection owes on the socket.
  const owed = (socket as Socket & { _httpMessage?: { headersSent: boolean; req?: { complete: boolean } } | null })._httpMessage;
  if (owed == null) return true;
  return !owed.headersSent && owed.req?.complete === false;
}
