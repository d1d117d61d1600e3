import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

/** The rest of an answer's onSend hooks and its write, given the payload to send. */
export type SendOn = (error: null, payload: unknown) => void;

/** What the writer needs of a reply: its logger, a header, and its response to end a connection on. */
export type HeldReply = Pick<FastifyReply, 'log' | 'header' | 'statusCode'> & { readonly raw: Pick<FastifyReply['raw'], 'destroy'> };

/**
 * Writes the first answer decided in a turn of the event loop at once, and holds the others
 * decided in the same turn to write them together at its end (a setImmediate: after the poll
 * phase has handed over every socket that was readable).
 *
 * Why: a gateway that waits for its answers sleeps between them, and each write to a sleeping
 * reader makes the kernel wake it, which on a virtual machine is an interprocessor interrupt the
 * hypervisor handles: on the 2-core VM this was measured on, a single check's write cost the
 * service 45 µs of its main thread against 22 µs for a bare route whose client never sleeps.
 * Written together, the answers of a busy turn wake the reader once more at most. The first is
 * not held, so a lone request (a lightly loaded service) waits for nothing, nor for the slices of
 * large batches queued before the turn's end; a held one waits for the requests read after it in
 * the same turn, and for any slice already queued to run before the write-out.
 *
 * When the server starts closing, the answers held are written at once, asking for their
 * connections to be closed: decided before the close, they would have been written before it
 * without this writer, leaving their connections idle for the close to end; written after it,
 * a keep-alive connection would stay open until its idle timeout, holding the shutdown. Answers
 * decided after that are written at once, as they were before (a request that follows one on
 * its connection is answered 503 by the errors plugin, which closes it).
 *
 * An answer written at once is written within Fastify's call, as without this writer, so a
 * throw from it is Fastify's to answer; only a held one's is the write-out's (see write). While
 * an answer is held, `reply.sent` is false and Fastify's guard against a second send is off: a
 * route that has sent returns nothing, its reply or the promise of it (any other value Fastify
 * would send again), and changes nothing after.
 */
export class TurnEndWriter {
  private replies: HeldReply[] = [];
  private sends: SendOn[] = [];
  private payloads: unknown[] = [];
  private isTurnOpen = false;
  private isClosing = false;
  private readonly flushNow = (): void => this.flush();

  /** How many answers wait for the turn's end. */
  get waiting(): number {
    return this.sends.length;
  }

  /**
   * An answer's onSend continuation, run with its payload now or at the end of this turn. An
   * error answer (4xx, 5xx) goes at once: when writing one fails (a header Node refuses, say),
   * Fastify tries its next error handler and then a bare 500 within its own call, which a held
   * write would be outside of; errors are too rare for holding them to save anything.
   */
  hold(reply: HeldReply, send: SendOn, payload: unknown): void {
    if (this.isClosing || reply.statusCode >= 400) {
      send(null, payload);
      return;
    }
    if (this.isTurnOpen) {
      this.replies.push(reply);
      this.sends.push(send);
      this.payloads.push(payload);
      return;
    }
    this.isTurnOpen = true;
    setImmediate(this.flushNow);
    send(null, payload);
  }

  /** The server is closing: what is held goes now, asking for its connection to be closed; nothing is held from then on. */
  close(): void {
    this.isClosing = true;
    for (const reply of this.replies) reply.header('connection', 'close');
    this.flush();
  }

  /** Writes what is held, in the order decided; an answer sent meanwhile starts a new turn. */
  private flush(): void {
    this.isTurnOpen = false;
    const { replies, sends, payloads } = this;
    if (sends.length === 0) return;
    this.replies = [];
    this.sends = [];
    this.payloads = [];
    for (let i = 0; i < sends.length; i++) this.write(replies[i]!, sends[i]!, payloads[i]);
  }

  /**
   * A held write that throws (Fastify answers such an error itself when its hooks run within its
   * call, but this one runs from the write-out) ends the connection rather than leave the client
   * waiting for an answer that will not come, and is logged with its request; the others still go out.
   */
  private write(reply: HeldReply, send: SendOn, payload: unknown): void {
    try {
      send(null, payload);
    } catch (error) {
      reply.log.error({ err: error }, 'writing an answer failed: its connection is closed');
      reply.raw.destroy();
    }
  }
}

/** `server.coalesceWrites`: every route's answers go out through one TurnEndWriter. */
export const coalescedWritesPlugin = fp(
  (app: FastifyInstance, _options: object, next: (error?: Error) => void) => {
    const writer = new TurnEndWriter();
    app.addHook('onSend', (_request, reply, payload, send) => writer.hold(reply, send, payload));
    app.addHook('preClose', (done) => {
      writer.close();
      done();
    });
    next();
  },
  { name: 'coalesced-writes' },
);
