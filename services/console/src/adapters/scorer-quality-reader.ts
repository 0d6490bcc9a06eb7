/** One model version's live quality, as the scorer's `GET /v1/quality` reports it. */
export interface LiveVersionQuality {
  modelVersionId: string;
  modelVersion: number;
  examples: number;
  positives: number;
  auc: number | null;
  averagePrecision: number | null;
  cardPrecisionAt100: number | null;
}

/** The scorer's live quality as the page shows it. */
export interface LiveQualityView {
  /** The scorer read from. */
  url: string;
  /** False while no token is configured: the scorer's `/v1` routes need one. */
  configured: boolean;
  /** Served scores still waiting for their label. */
  pending: number | null;
  /** Newest version first. */
  versions: LiveVersionQuality[];
  /** When the scorer last answered. */
  readAt: string | null;
  /** Why the last read failed, or null. */
  error: string | null;
}

/** Options of {@link ScorerQualityReader}. */
export interface ScorerQualityReaderOptions {
  /** The scorer's base URL, e.g. `http://127.0.0.1:9467`. */
  url: string;
  /** The scorer's `SCORER_API_TOKEN`; without it nothing is read. */
  token: string | undefined;
  timeoutMs?: number;
}

function isQualityBody(body: unknown): body is { pending: number; versions: LiveVersionQuality[] } {
  return (
    typeof body === 'object' &&
    body !== null &&
    'pending' in body &&
    typeof body.pending === 'number' &&
    'versions' in body &&
    Array.isArray(body.versions)
  );
}

/**
 * Reads the live quality the scorer measures (its `GET /v1/quality`, with its bearer token): what
 * each model version scored on the stream, joined with the labels as they mature. A failed read
 * keeps the last figures and says why.
 */
export class ScorerQualityReader {
  private view: LiveQualityView;

  constructor(private readonly options: ScorerQualityReaderOptions) {
    this.view = {
      url: options.url,
      configured: options.token !== undefined,
      pending: null,
      versions: [],
      readAt: null,
      error: null,
    };
  }

  /** The last read. */
  current(): LiveQualityView {
    return this.view;
  }

  /** Reads the scorer once. Never throws. */
  async poll(): Promise<void> {
    const { token, url } = this.options;
    if (token === undefined) return;
    try {
      const response = await fetch(`${url}/v1/quality`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 1_500),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        const hint = response.status === 401 ? ' (check CONSOLE_SCORER_TOKEN)' : '';
        this.view = { ...this.view, error: `GET /v1/quality answered ${response.status}${hint}` };
        return;
      }
      const body: unknown = await response.json();
      if (!isQualityBody(body)) {
        this.view = { ...this.view, error: 'GET /v1/quality answered an unexpected body' };
        return;
      }
      this.view = {
        ...this.view,
        pending: body.pending,
        versions: body.versions,
        readAt: new Date().toISOString(),
        error: null,
      };
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause;
      this.view = { ...this.view, error: cause?.code ?? (error as Error).message };
    }
  }
}
