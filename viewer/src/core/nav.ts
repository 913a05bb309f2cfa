/** Moving between routes: the URL hash is the one source of truth, the app follows its changes. */
import { formatRoute, type Route } from '../model/routes.js';

/** Goes to a route (a new history entry; the app shows it on `hashchange`). */
export function navigate(route: Route): void {
  const hash = formatRoute(route);
  if (location.hash !== hash) location.hash = hash;
}

/** Changes the current route in place (filters, a selection): no new history entry, the page follows. */
export function replaceRoute(route: Route): void {
  const hash = formatRoute(route);
  if (location.hash !== hash) location.replace(hash);
}

export const ROUTE_RECORDED = 'lab:route-recorded';

/**
 * Writes the route into the URL without anybody following it (the player's position, so a reload returns
 * to it); the app only notes it for its tabs.
 */
export function recordRoute(route: Route): void {
  const hash = formatRoute(route);
  if (location.hash === hash) return;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  window.dispatchEvent(new Event(ROUTE_RECORDED));
}
