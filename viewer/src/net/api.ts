/** The lab server's read-only HTTP API as the Replays and Compare pages use it. */
import { API, type ReplayDetail, type ReplaySummary, type RunSummary } from '../../../protocol/protocol.js';
import { apiErrorMessage, compareQuery, type CompareResult } from '../model/compare.js';
import { replaysQuery } from '../model/replays.js';
import type { CompareParams, ReplayFilters, ReplayRef } from '../model/routes.js';

/** An answer other than 2xx: `message` is the server's own error text when it gave one. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GET a JSON document; rejects with the server's `{ error }` message on a refusal. */
export async function fetchJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, `GET ${path}: the lab server cannot be reached`);
  }
  let body: unknown = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, apiErrorMessage(res.status, body, `GET ${path}`));
  if (body === null) throw new ApiError(res.status, `GET ${path}: the answer is not JSON`);
  return body as T;
}

/** Replay logs, filtered by the server (and again here, should it ignore a parameter). */
export async function fetchReplays(filters: ReplayFilters, signal?: AbortSignal): Promise<ReplaySummary[]> {
  const body = await fetchJson<ReplaySummary[] | { replays: ReplaySummary[] }>(`${API.replays}${replaysQuery(filters)}`, signal);
  const list = Array.isArray(body) ? body : body.replays;
  if (!Array.isArray(list)) throw new ApiError(200, `GET ${API.replays}: expected a list of replays`);
  return list;
}

export function fetchReplay(ref: ReplayRef, signal?: AbortSignal): Promise<ReplayDetail> {
  return fetchJson<ReplayDetail>(API.replay(ref.runId, ref.name), signal);
}

export async function fetchRuns(signal?: AbortSignal): Promise<RunSummary[]> {
  const body = await fetchJson<RunSummary[] | { runs: RunSummary[] }>(API.runs, signal);
  return Array.isArray(body) ? body : body.runs;
}

export function fetchCompare(params: CompareParams, signal?: AbortSignal): Promise<CompareResult> {
  return fetchJson<CompareResult>(`${API.compare}${compareQuery(params)}`, signal);
}
