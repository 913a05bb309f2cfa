/**
 * The app: the top bar (brand, navigation, connection), the hash router, and the page on screen (Live,
 * Replays, Compare, Play Go).
 *
 * The Live page lives for the whole session (hidden while another page shows); the other pages are built
 * for their route and destroyed when the route leaves them, unless they can follow the new route in place.
 */
import { formatRoute, parseRoute, sectionOf, type Route, type Section } from '../model/routes.js';
import { LabConnection, type ConnectionState } from '../net/connection.js';
import { ROUTE_RECORDED } from './nav.js';
import { ComparePage } from '../pages/compare.js';
import { GoPage } from '../pages/go.js';
import { PlayPage } from '../pages/play.js';
import { LivePage } from '../pages/live.js';
import { ReplayPlayerPage } from '../pages/player.js';
import { ReplaysPage } from '../pages/replays.js';
import { ExperimentsPage } from '../views/experiments.js';
import { LatentPage } from '../pages/latent.js';
import { h, icon, setText } from '../ui/dom.js';

/** A page other than Live. */
export interface Page {
  readonly el: HTMLElement;
  /** Follows a new route of the same page in place; false: the app builds the page anew. */
  update(route: Route): boolean;
  destroy(): void;
}

const NAV_ICONS = {
  live: ['M3 12h3.5l2.5-6 4 12 2.5-6H21'],
  replays: ['M4 5h16v14H4z', 'M10 9v6l5-3z'],
  compare: ['M4 19V9', 'M10 19V5', 'M16 19v-7', 'M20 19H3'],
  // A stone on an intersection.
  go: ['M12 3v4.5', 'M12 16.5V21', 'M3 12h4.5', 'M16.5 12H21', 'M7.5 12a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0 -9 0'],
  // Trials scattered under a best-so-far line.
  experiments: ['M4 20h16', 'M4 16l5-5 4 2 6-7', 'M7 18.5v.01', 'M12 17v.01', 'M17 15v.01'],
};

const PAGE_TITLES: Record<Exclude<Section, 'live'>, string> = { replays: 'Replays', compare: 'Compare', go: 'Play Go', experiments: 'Experiments' };

export class App {
  private readonly conn = new LabConnection();
  private readonly live: LivePage;
  private readonly body: HTMLElement;
  private readonly nav: Record<Section, HTMLAnchorElement>;
  private readonly connDot: HTMLElement;
  private readonly connText: HTMLElement;
  private page: Page | null = null;
  private pageName: Route['page'] | null = null;
  /** The last route of each section: the tabs lead back to it. */
  private readonly lastHash: Record<Section, string> = { live: '#/live', replays: '#/replays', compare: '#/compare', go: '#/go', experiments: '#/experiments' };

  constructor(root: HTMLElement) {
    const tab = (section: Section, label: string) =>
      h('a', { class: 'nav-tab', testid: `nav-${section}`, attrs: { href: this.lastHash[section] } }, icon(NAV_ICONS[section], 'icon nav-icon'), h('span', { text: label }));
    this.nav = { live: tab('live', 'Live'), replays: tab('replays', 'Replays'), compare: tab('compare', 'Compare'), go: tab('go', 'Go'), experiments: tab('experiments', 'Experiments') };
    this.connDot = h('span', { class: 'conn-dot' });
    this.connText = h('span', { class: 'conn-text', text: 'connecting' });
    const topbar = h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', attrs: { href: '#/live', 'aria-label': 'RL Lab: live runs' } },
        h('div', { class: 'logo', attrs: { 'aria-hidden': 'true' } }),
        h('div', { class: 'brand-text' }, h('div', { class: 'brand-name', text: 'RL Lab' }), h('div', { class: 'brand-sub', text: 'training viewer' })),
      ),
      h('nav', { class: 'nav', attrs: { 'aria-label': 'Pages' } }, this.nav.live, this.nav.replays, this.nav.compare, this.nav.go, this.nav.experiments),
      h('div', { class: 'conn', title: 'Connection to the lab server' }, this.connDot, this.connText),
    );
    this.body = h('div', { class: 'shell-body' });
    root.replaceChildren(h('div', { class: 'shell' }, topbar, this.body));
    this.live = new LivePage(this.body, this.conn);
    this.conn.onState((state) => this.connectionChanged(state));
    window.addEventListener('hashchange', () => this.route());
    window.addEventListener(ROUTE_RECORDED, () => this.noteRoute(parseRoute(location.hash)));
    this.route();
  }

  /** Marks the route's tab as current; the tabs lead back to where their section was left. */
  private noteRoute(route: Route): void {
    const section = sectionOf(route.page);
    for (const [name, a] of Object.entries(this.nav) as [Section, HTMLAnchorElement][]) {
      const current = name === section;
      a.classList.toggle('active', current);
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    // The Replays tab leads back to the list (with its filters), not to a player; the Go tab to its settings.
    if (route.page === 'replays' || route.page === 'compare' || route.page === 'go' || route.page === 'experiments') this.lastHash[route.page] = formatRoute(route);
    for (const s of ['replays', 'compare', 'go', 'experiments'] as const) this.nav[s].setAttribute('href', this.lastHash[s]);
  }

  private connectionChanged(state: ConnectionState): void {
    this.connDot.dataset.state = state;
    setText(this.connText, state === 'connected' ? 'connected' : state === 'connecting' ? 'connecting' : 'offline');
  }

  /** Shows the page of `location.hash`. */
  private route(): void {
    const route = parseRoute(location.hash);
    const section = sectionOf(route.page);
    this.noteRoute(route);

    if (route.page === 'live') {
      this.closePage();
      this.live.show(route.runId);
      return;
    }
    this.live.hide();
    if (this.page && this.pageName === route.page && this.page.update(route)) return;
    this.closePage();
    this.pageName = route.page;
    document.title = `${route.page === 'play' ? 'Play in browser' : PAGE_TITLES[section === 'live' ? 'replays' : section]} — RL Lab`;
    this.page = this.buildPage(route);
    this.body.append(this.page.el);
  }

  private buildPage(route: Exclude<Route, { page: 'live' }>): Page {
    switch (route.page) {
      case 'replays':
        return new ReplaysPage(route);
      case 'replay':
      case 'side-by-side':
        return new ReplayPlayerPage(route);
      case 'compare':
        return new ComparePage(route);
      case 'go':
        return new GoPage(route, this.conn);
      case 'experiments':
        return new ExperimentsPage(route, this.conn);
      case 'latent':
        return new LatentPage(route);
      case 'play':
        return new PlayPage(route);
    }
  }

  private closePage(): void {
    this.page?.destroy();
    this.page = null;
    this.pageName = null;
  }
}
