/**
 * Every error the API answers with, declared once: RFC 9457 problem types with a stable
 * `type`, `title` and `status`. Code throws ProblemError with one of these, never ad-hoc text.
 */
export const PROBLEM_TYPES = {
  validation: { title: 'Request is not valid', status: 400 },
  malformedJson: { title: 'Body is not valid JSON', status: 400 },
  malformedHttp: { title: 'Request is not valid HTTP', status: 400 },
  unauthorized: { title: 'Missing or invalid bearer token', status: 401 },
  forbidden: { title: 'Token lacks the role this route needs', status: 403 },
  notFound: { title: 'Not found', status: 404 },
  methodNotAllowed: { title: 'Method not allowed on this resource', status: 405 },
  requestTimeout: { title: 'Request did not arrive in time', status: 408 },
  conflict: { title: 'Conflicts with the current state', status: 409 },
  preconditionFailed: { title: 'If-Match does not match the current version', status: 412 },
  payloadTooLarge: { title: 'Request is too large', status: 413 },
  unsupportedMediaType: { title: 'Unsupported media type', status: 415 },
  rateLimited: { title: 'Too many requests', status: 429 },
  headersTooLarge: { title: 'Request headers are too large', status: 431 },
  internal: { title: 'Internal error', status: 500 },
  unavailable: { title: 'Service unavailable', status: 503 },
  capacity: { title: 'A bounded table of the service is full', status: 507 },
} as const satisfies Record<string, { title: string; status: number }>;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export const problemTypeUri = (kind: ProblemKind): string => `/problems/${kind.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;

export interface FieldProblem {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
}

export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    detail: string,
    readonly errors?: FieldProblem[],
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  get status(): number {
    return PROBLEM_TYPES[this.kind].status;
  }
}

export function problemBody(kind: ProblemKind, detail: string, instance?: string, errors?: FieldProblem[]): ProblemBody {
  const { title, status } = PROBLEM_TYPES[kind];
  return { type: problemTypeUri(kind), title, status, detail, ...(instance === undefined ? {} : { instance }), ...(errors === undefined ? {} : { errors }) };
}
