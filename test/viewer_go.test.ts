/**
 * The Play Go page's pure logic: pixel → point on the board (the inverse of the layout), GTP names, the route
 * of its settings, result and score text, the order of states from acks and pushes, and area ownership at the
 * end (against the rules engine's own score).
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { GoBoard, defaultKomi as serverKomi, toGtp } from '../envs/go/board.js';
import { goFrame } from '../envs/go/go_env.js';
import type { GoGameState } from '../protocol/protocol.js';
import { goLayout, pointAtPixel } from '../viewer/src/model/go_geometry.js';
import {
  ackErrorText,
  areaMap,
  defaultKomi,
  DEFAULT_GO_SETTINGS,
  emptyGoFrame,
  goNewRequest,
  goPhase,
  isNewerState,
  lastMoveText,
  moveName,
  opponentName,
  outcomeText,
  parseGoSettings,
  resultView,
  scoreLines,
  sgfFileName,
  turnText,
  type GoSettings,
} from '../viewer/src/model/go_play.js';
import { formatRoute, parseRoute, sectionOf } from '../viewer/src/model/routes.js';

function state(over: Partial<GoGameState> = {}): GoGameState {
  return {
    gameId: 'g1',
    size: 5,
    komi: 24,
    opponent: 'random',
    humanColor: 'black',
    frame: emptyGoFrame(5),
    moves: 0,
    thinking: false,
    legal: Array.from({ length: 26 }, (_, i) => i),
    over: false,
    result: null,
    score: null,
    sgf: null,
    error: null,
    ...over,
  };
}

describe('pixel → point', () => {
  for (const [size, w, h, panel] of [
    [5, 700, 700, false],
    [7, 613, 613, false],
    [9, 1000, 600, false],
    [9, 1200, 500, true],
    [7, 500, 700, true],
  ] as const) {
    it(`inverts the layout of a ${size}×${size} board on ${w}×${h} (panel ${panel})`, () => {
      const L = goLayout(size, w, h, { panel });
      for (let row = 0; row < size; row++) {
        for (let col = 0; col < size; col++) {
          const p = row * size + col;
          const [x, y] = L.point(row, col);
          expect(pointAtPixel(L, x, y)).toBe(p);
          // Anywhere in the square around the intersection (just under half a spacing each way).
          const d = L.spacing * 0.49;
          for (const [dx, dy] of [[-d, -d], [d, -d], [-d, d], [d, d], [d, 0], [0, -d]]) expect(pointAtPixel(L, x + dx!, y + dy!)).toBe(p);
        }
      }
      // Beyond half a spacing outside the outer lines: off the board (margin, coordinates, background).
      const last = (size - 1) * L.spacing;
      const out = L.spacing * 0.51;
      expect(pointAtPixel(L, L.x0 - out, L.y0)).toBeNull();
      expect(pointAtPixel(L, L.x0, L.y0 - out)).toBeNull();
      expect(pointAtPixel(L, L.x0 + last + out, L.y0 + last)).toBeNull();
      expect(pointAtPixel(L, L.x0 + last, L.y0 + last + out)).toBeNull();
      for (const lbl of L.labels) expect(pointAtPixel(L, lbl.x, lbl.y)).toBeNull();
      expect(pointAtPixel(L, 0, 0)).toBeNull();
      expect(pointAtPixel(L, NaN, L.y0)).toBeNull();
      expect(pointAtPixel(L, Infinity, L.y0)).toBeNull();
    });
  }

  it('without the panel the board fills the square stage; with it, the panel keeps its room', () => {
    const bare = goLayout(7, 640, 640, { panel: false });
    expect(bare.board).toEqual({ x: 20, y: 20, w: 600, h: 600 });
    expect(bare.panel.h).toBe(0);
    const withPanel = goLayout(7, 640, 640);
    expect(withPanel.board.w).toBe(640 - 40 - 64);
    expect(withPanel.panel.side).toBe('bottom');
    // The default is the historic layout (the live view and the replays draw it).
    expect(goLayout(9, 1000, 600)).toMatchObject({ panel: { side: 'right' } });
  });
});

describe('GTP names', () => {
  it('names points as the server does (columns skip I, rows count from the bottom) and the pass', () => {
    for (const size of [5, 7, 9, 19]) {
      for (let m = 0; m <= size * size; m++) expect(moveName(m, size)).toBe(toGtp(m, size));
    }
    expect(moveName(12, 5)).toBe('C3');
    expect(moveName(0, 5)).toBe('A5');
    expect(moveName(24, 5)).toBe('E1');
    expect(moveName(8, 9)).toBe('J9');
    expect(moveName(25, 5)).toBe('pass');
    expect(moveName(26, 5)).toBe('?');
    expect(moveName(-1, 5)).toBe('?');
  });

  it('says who made the last move', () => {
    expect(lastMoveText({ size: 5, toPlay: 'white', lastMove: [2, 2] })).toBe('Black C3');
    expect(lastMoveText({ size: 9, toPlay: 'black', lastMove: [0, 8] })).toBe('White J9');
    expect(lastMoveText({ size: 5, toPlay: 'black', lastMove: 'pass' })).toBe('White pass');
    expect(lastMoveText({ size: 5, toPlay: 'black', lastMove: null })).toBeNull();
  });
});

describe('settings and the #/go route', () => {
  it('parses deep links, falling back to the defaults for anything unknown', () => {
    expect(parseRoute('#/go')).toEqual({ page: 'go', settings: DEFAULT_GO_SETTINGS });
    expect(parseRoute('#/go?size=7&opponent=mcts&color=black')).toEqual({ page: 'go', settings: { ...DEFAULT_GO_SETTINGS, size: 7, opponent: 'mcts', color: 'black' } });
    expect(parseRoute('#/go?size=5&opponent=gnugo&color=white&level=10')).toEqual({ page: 'go', settings: { ...DEFAULT_GO_SETTINGS, size: 5, opponent: 'gnugo', color: 'white', sims: 2000, level: 10 } });
    expect(parseRoute('#/go?size=7&opponent=alphazero&sims=1600&agent=go7-alphazero-s1').page === 'go' && parseGoSettings(new Map([['opponent', 'alphazero'], ['sims', '1600'], ['agent', 'go7-alphazero-s1']]))).toMatchObject({ opponent: 'alphazero', azSims: 1600, agent: 'go7-alphazero-s1' });
    expect(parseGoSettings(new Map([['opponent', 'alphazero'], ['agent', '../etc']])).agent).toBeNull();
    expect(parseRoute('#/go?size=19&opponent=alphago&color=red&sims=3&level=0')).toEqual({ page: 'go', settings: DEFAULT_GO_SETTINGS });
    expect(parseRoute('#/go?opponent=mcts&sims=8000').page).toBe('go');
    expect(parseGoSettings(new Map([['sims', '8000']])).sims).toBe(8000);
    expect(sectionOf('go')).toBe('go');
  });

  it('formats settings back to a link that parses to them (strength only for its opponent)', () => {
    const all: GoSettings[] = [
      { size: 5, opponent: 'random', color: 'black', sims: 2000, azSims: 400, agent: null, level: 5 },
      { size: 7, opponent: 'mcts', color: 'white', sims: 500, azSims: 400, agent: null, level: 5 },
      { size: 9, opponent: 'gnugo', color: 'black', sims: 2000, azSims: 400, agent: null, level: 3 },
      { size: 7, opponent: 'alphazero', color: 'white', sims: 2000, azSims: 100, agent: 'go7-az', level: 5 },
    ];
    for (const settings of all) expect(parseRoute(formatRoute({ page: 'go', settings }))).toEqual({ page: 'go', settings });
    expect(formatRoute({ page: 'go', settings: all[0]! })).toBe('#/go?size=5&opponent=random&color=black');
    expect(formatRoute({ page: 'go', settings: all[1]! })).toBe('#/go?size=7&opponent=mcts&color=white&sims=500');
    expect(formatRoute({ page: 'go', settings: all[2]! })).toBe('#/go?size=9&opponent=gnugo&color=black&level=3');
    expect(formatRoute({ page: 'go', settings: all[3]! })).toBe('#/go?size=7&opponent=alphazero&color=white&sims=100&agent=go7-az');
  });

  it('builds the go:new request and uses the server’s komi', () => {
    expect(goNewRequest({ ...DEFAULT_GO_SETTINGS, size: 7, opponent: 'mcts', color: 'white', sims: 8000, level: 5 })).toEqual({ size: 7, opponent: 'mcts', humanColor: 'white', sims: 8000 });
    expect(goNewRequest({ ...DEFAULT_GO_SETTINGS, size: 9, opponent: 'gnugo', color: 'black', sims: 2000, level: 1 })).toEqual({ size: 9, opponent: 'gnugo', humanColor: 'black', level: 1 });
    expect(goNewRequest({ ...DEFAULT_GO_SETTINGS, opponent: 'alphazero', azSims: 1600, agent: 'go7-az' })).toEqual({ size: 7, opponent: 'alphazero', humanColor: 'black', sims: 1600, agent: 'go7-az' });
    expect(goNewRequest(DEFAULT_GO_SETTINGS)).toEqual({ size: 7, opponent: 'random', humanColor: 'black' });
    for (let n = 2; n <= 19; n++) expect(defaultKomi(n)).toBe(serverKomi(n));
    expect(emptyGoFrame(5)).toMatchObject({ kind: 'go', size: 5, board: '.'.repeat(25), komi: 24, lastMove: null });
  });
});

describe('result and status text', () => {
  it('reads results against the person’s colour', () => {
    expect(resultView('B+3.5', 'black')).toEqual({ winner: 'black', headline: 'Black wins by 3.5', byResignation: false, margin: 3.5, outcome: 'win' });
    expect(resultView('W+49', 'black')).toMatchObject({ winner: 'white', headline: 'White wins by 49', outcome: 'loss', margin: 49 });
    expect(resultView('W+R', 'black')).toEqual({ winner: 'white', headline: 'White wins by resignation', byResignation: true, margin: null, outcome: 'loss' });
    expect(resultView('B+R', 'black')).toMatchObject({ headline: 'Black wins by resignation', outcome: 'win' });
    expect(resultView('0', 'white')).toMatchObject({ winner: null, headline: 'Draw (jigo)', outcome: 'draw' });
    expect(resultView('Void', 'white')).toMatchObject({ winner: null, headline: 'Result Void', outcome: null });
    expect(outcomeText(resultView('B+1', 'white'), 'mcts-2000')).toBe('MCTS (2000 sims) wins');
    expect(outcomeText(resultView('B+1', 'black'), 'mcts-2000')).toBe('You win');
    expect(opponentName('gnugo-5')).toBe('GNU Go (level 5)');
    expect(opponentName('random')).toBe('Random');
  });

  it('writes the area count: Black’s area, White’s area + komi = total, and the margin', () => {
    const s = scoreLines({ black: 14, white: 11, komi: 24, margin: -21 });
    expect(s).toEqual({ black: '14 area', white: '11 area + 24 komi', whiteTotal: 35, margin: 'White 35 − Black 14 = 21' });
    expect(scoreLines({ black: 30, white: 19, komi: 7.5, margin: 3.5 }).margin).toBe('Black 30 − White 26.5 = 3.5');
    expect(scoreLines({ black: 25, white: 16, komi: 9, margin: 0 }).margin).toBe('Black 25 = White 25');
  });

  it('says whose turn it is', () => {
    expect(turnText(null)).toMatch(/New game/);
    expect(turnText(state())).toBe('Your move (Black)');
    expect(turnText(state({ humanColor: 'white', frame: { ...emptyGoFrame(5), toPlay: 'white' } }))).toBe('Your move (White)');
    expect(turnText(state({ thinking: true, legal: [] }))).toBe('Agent is thinking…');
    expect(goPhase(state({ over: true, legal: [] }))).toBe('over');
    expect(goPhase(state({ over: true, error: 'random failed: engine exited' }))).toBe('failed');
    expect(ackErrorText('go:play: B4 is illegal: occupied')).toBe('B4 is illegal: occupied');
    expect(ackErrorText('not connected to the lab server')).toBe('not connected to the lab server');
    expect(sgfFileName({ size: 7, opponent: 'mcts-2000' }, new Date(2026, 2, 4, 9, 5))).toBe('go-7x7-mcts-2000-20260304-0905.sgf');
  });
});

describe('the order of states', () => {
  it('never lets an older ack or push replace a newer state of the same game', () => {
    const mine = state({ moves: 1, thinking: true, legal: [] }); // the ack of the person's move
    const reply = state({ moves: 2 }); // the agent's push
    expect(isNewerState(mine, reply)).toBe(true);
    expect(isNewerState(reply, mine)).toBe(false); // the ack arriving late
    const failed = state({ moves: 1, thinking: false, over: true, error: 'random failed', legal: [] });
    expect(isNewerState(mine, failed)).toBe(true);
    expect(isNewerState(failed, mine)).toBe(false);
    const resigned = state({ moves: 2, over: true, result: 'W+R', legal: [] });
    expect(isNewerState(reply, resigned)).toBe(true);
    expect(isNewerState(resigned, reply)).toBe(false);
    expect(isNewerState(null, reply)).toBe(true);
    expect(isNewerState(reply, { ...reply, gameId: 'other' })).toBe(true);
  });
});

describe('area ownership at the end', () => {
  it('counts like the rules engine (Tromp-Taylor) on random games', () => {
    const rng = seedrandom('viewer-go-area');
    for (let game = 0; game < 60; game++) {
      const size = [5, 7, 9][game % 3]!;
      const b = new GoBoard(size);
      const stop = Math.floor(rng() * 2 * size * size);
      while (!b.isOver && b.moveNumber < stop) {
        const legal: number[] = [];
        for (let m = 0; m < size * size; m++) if (b.isLegal(m)) legal.push(m);
        b.play(legal.length && rng() < 0.95 ? legal[Math.floor(rng() * legal.length)]! : size * size);
      }
      const frame = goFrame(b, b.komi);
      const area = areaMap(frame.board, size);
      const score = b.score();
      expect([area.black, area.white]).toEqual([score.black, score.white]);
      for (let p = 0; p < size * size; p++) {
        if (frame.board[p] === 'X') expect(area.owner[p]).toBe('black');
        if (frame.board[p] === 'O') expect(area.owner[p]).toBe('white');
      }
    }
  });

  it('gives a region touching both colours (or none) to nobody', () => {
    expect(areaMap('.'.repeat(25), 5)).toMatchObject({ black: 0, white: 0 });
    // X . O across the top of a 3×3: the empty region touches both colours.
    const a = areaMap('X.O......', 3);
    expect(a.owner).toEqual(['black', null, 'white', null, null, null, null, null, null]);
    expect([a.black, a.white]).toEqual([1, 1]);
    const b = areaMap(['.X...', 'XX...', '.....', '...OO', '...O.'].join(''), 5);
    expect(b.owner[0]).toBe('black');
    expect(b.owner[24]).toBe('white');
    expect(b.owner[12]).toBeNull();
    expect([b.black, b.white]).toEqual([4, 4]);
  });
});
