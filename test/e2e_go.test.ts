/**
 * End to end in real headless Chromium: the viewer's Play Go page against the lab server. Set up a 5×5 game
 * against the random agent as Black from the page's controls, hover and click the centre point (the board's
 * pixels show a translucent stone, then a black one), play legal points until the game ends (the 5×5 cap is 50
 * moves) and check the result panel against the server's score; download the SGF. Then a game as White
 * (the agent opens), an illegal click that does nothing, a resignation, and a dropped connection: the server
 * ends a viewer's games when its socket goes, and the page says so and offers a new game. Saves a screenshot
 * (test-results/go.png; with UPDATE_SCREENSHOTS=1 also docs/go.png).
 *
 * Needs the built viewer (npm test builds it) and Chromium; without Chromium the test is skipped, unless
 * LAB_REQUIRE_BROWSER=1, where a missing browser is a failure.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { close, pixel, saveScreenshot, skipBrowserTests, type RGB, useViewer } from './browser.js';
import { LIVE_NAMESPACE, type GoGameState } from '../protocol/protocol.js';


// The renderer's colours (viewer/src/model/palette.ts GO).
const WOOD: RGB = [0xdc, 0xb3, 0x5c];
const BLACK: RGB = [0x16, 0x18, 0x1c];
const WHITE: RGB = [0xf4, 0xf1, 0xea];

/** Page code is written as strings: the root tsconfig has no DOM types. */
const STATE = 'window.__lab.go.state';

function mix(a: RGB, b: RGB, t: number): RGB {
  return a.map((v, i) => v + (b[i]! - v) * t) as RGB;
}

/** "B+3.5" → "Black wins by 3.5", "W+R" → "White wins by resignation", "0" → "Draw". */
function headlineOf(result: string): string {
  if (result === '0') return 'Draw';
  const who = result.startsWith('B') ? 'Black' : 'White';
  const rest = result.slice(2);
  return rest === 'R' ? `${who} wins by resignation` : `${who} wins by ${rest}`;
}

const num = (v: number) => String(Math.round(v * 100) / 100);

describe.skipIf(skipBrowserTests)('Play Go in headless Chromium', () => {
  // A dropped connection (the last test) makes the browser log the failed reconnect attempts: not errors here.
  const viewer = useViewer({
    prefix: 'lab-e2e-go-',
    page: { acceptDownloads: true, ignoreConsole: /WebSocket|ERR_CONNECTION|socket\.io/i },
  });

  /** Games the server has open (its private map: the test's only window on `go:close`). */
  const openGames = () => (viewer.server.hub.go as unknown as { games: Map<string, unknown> }).games.size;
  const state = async () => (await viewer.page.evaluate(STATE)) as GoGameState | null;
  const pointAt = async (move: number) => (await viewer.page.evaluate(`window.__lab.go.pointAt(${move})`)) as [number, number];
  const canvas = () => viewer.page.locator('[data-testid=go-board] canvas');
  /** Waits until the person may move (or the game is over) and returns the state. */
  const yourTurn = async () => {
    await viewer.page.waitForFunction(`${STATE} && (${STATE}.over || ${STATE}.legal.length > 0)`, null, { timeout: 20_000 });
    return (await state())!;
  };
  /** Clicks a point of the board (page coordinates of the canvas plus the hook's point). */
  const clickPoint = async (move: number) => {
    const box = (await canvas().boundingBox())!;
    const [x, y] = await pointAt(move);
    await viewer.page.mouse.click(box.x + x, box.y + y);
  };

  it('plays a 5×5 game against the random agent to the end and shows the score', async () => {
    await viewer.page.goto(`${viewer.server.openUrl}#/go`);
    await viewer.page.getByTestId('go-board').waitFor();
    expect(await viewer.page.getByTestId('nav-go').getAttribute('aria-current')).toBe('page');
    await viewer.page.waitForFunction(`document.querySelector('[data-testid=go-new]') && !document.querySelector('[data-testid=go-new]').disabled`, null, { timeout: 10_000 });

    // The settings go into the URL (deep-linkable).
    await viewer.page.getByTestId('go-size').selectOption('5');
    await viewer.page.getByTestId('go-opponent').selectOption('random');
    await viewer.page.getByTestId('go-color').selectOption('black');
    await viewer.page.waitForFunction(`location.hash.includes('size=5') && location.hash.includes('opponent=random') && location.hash.includes('color=black')`);
    expect(await viewer.page.getByTestId('go-komi').textContent()).toContain('24');
    await viewer.page.getByTestId('go-new').click();
    let game = await yourTurn();
    expect(game).toMatchObject({ size: 5, komi: 24, humanColor: 'black', moves: 0, over: false, opponent: 'random' });
    expect(game.legal).toHaveLength(26);
    expect(await viewer.page.getByTestId('go-status').textContent()).toContain('Your move (Black)');

    // Hovering the centre shows a translucent black stone over the wood; clicking plays it.
    const box = (await canvas().boundingBox())!;
    const [cx, cy] = await pointAt(12);
    // Sample inside the stone but off its centre (the last-move marker) and off the grid lines: a quarter
    // spacing down and right.
    const spacing = (await pointAt(13))[0] - cx;
    const off = 0.25 * spacing;
    const [sx, sy] = [cx + off, cy + off];
    let shot = PNG.sync.read(await canvas().screenshot());
    expect(close(pixel(shot, sx, sy), WOOD), `wood at the centre before: ${pixel(shot, sx, sy)}`).toBe(true);
    await viewer.page.mouse.move(box.x + cx, box.y + cy);
    await viewer.page.waitForTimeout(150);
    shot = PNG.sync.read(await canvas().screenshot());
    const ghost = pixel(shot, sx, sy);
    expect(close(ghost, mix(WOOD, BLACK, 0.45), 16), `hover stone ${ghost}`).toBe(true);

    await viewer.page.mouse.click(box.x + cx, box.y + cy);
    await viewer.page.waitForFunction(`${STATE}.frame.board[12] === 'X'`, null, { timeout: 10_000 });
    shot = PNG.sync.read(await canvas().screenshot());
    expect(close(pixel(shot, sx, sy), BLACK), `black stone at the centre: ${pixel(shot, sx, sy)}`).toBe(true);
    expect(await viewer.page.getByTestId('go-last').textContent()).toMatch(/Black C3|White /);

    // The agent answers (a stone or a pass).
    game = await yourTurn();
    expect(game.moves).toBe(2);
    const stones = [...game.frame.board].filter((c) => c !== '.').length;
    expect(stones === 2 || game.frame.lastMove === 'pass').toBe(true);
    if (Array.isArray(game.frame.lastMove)) {
      const [r, c] = game.frame.lastMove;
      const [wx, wy] = await pointAt(r * 5 + c);
      shot = PNG.sync.read(await canvas().screenshot());
      const p = pixel(shot, wx + off, wy + off);
      expect(close(p, WHITE, 16), `white stone ${p}`).toBe(true);
    }

    // Keep playing legal points until the game ends (two passes, or the 50-move cap); like a person, never
    // fill an own eye (a point whose neighbours are all Black's), and pass when nothing else is left.
    const ownEye = (board: string, m: number) => {
      const [r, c] = [Math.floor(m / 5), m % 5];
      const nbrs = [r > 0 ? m - 5 : -1, r < 4 ? m + 5 : -1, c > 0 ? m - 1 : -1, c < 4 ? m + 1 : -1].filter((q) => q >= 0);
      return nbrs.every((q) => board[q] === 'X');
    };
    for (let turn = 0; !game.over && turn < 40; turn++) {
      const points = game.legal.filter((m) => m < 25 && !ownEye(game.frame.board, m));
      const before = game.moves;
      if (points.length === 0) await viewer.page.getByTestId('go-pass').click();
      else await clickPoint(points[(game.moves * 7) % points.length]!);
      await viewer.page.waitForFunction(`${STATE}.moves > ${before}`, null, { timeout: 10_000 });
      game = await yourTurn();
    }
    if (!game.over) {
      await viewer.page.getByTestId('go-resign').click();
      await viewer.page.getByTestId('go-resign-confirm').click();
      await viewer.page.waitForFunction(`${STATE}.over`);
      game = (await state())!;
    }
    expect(game.over).toBe(true);
    expect(game.error).toBeNull();

    const result = viewer.page.getByTestId('go-result');
    await result.waitFor();
    const text = (await result.textContent())!;
    expect(text).toContain(headlineOf(game.result!));
    if (game.score) {
      const s = game.score;
      expect(s.margin).toBe(s.black - s.white - s.komi);
      expect(text).toContain(`${num(s.white)} area + ${num(s.komi)} komi`);
      expect(text).toContain(`${num(s.black)} area`);
      expect(text).toContain(`= ${num(Math.abs(s.margin))}`);
      expect(await viewer.page.locator('[data-testid=go-result] [data-color=black] .go-score-total').textContent()).toBe(num(s.black));
      expect(await viewer.page.locator('[data-testid=go-result] [data-color=white] .go-score-total').textContent()).toBe(num(s.white + s.komi));
    }
    expect(await viewer.page.getByTestId('go-status').textContent()).toContain('Game over');
    expect(await viewer.page.getByTestId('go-pass').isDisabled()).toBe(true);
    expect(await viewer.page.getByTestId('go-resign').isDisabled()).toBe(true);

    // The screenshot for people (and the README).
    await viewer.page.mouse.move(5, 5);
    await viewer.page.waitForTimeout(200);
    saveScreenshot('go.png', await viewer.page.screenshot(), true);

    // Download SGF: a file with the server's SGF of the game.
    const [download] = await Promise.all([viewer.page.waitForEvent('download'), viewer.page.getByTestId('go-sgf').click()]);
    expect(download.suggestedFilename()).toMatch(/^go-5x5-random-\d{8}-\d{4}\.sgf$/);
    const sgf = fs.readFileSync((await download.path())!, 'utf8');
    expect(sgf).toBe(game.sgf);
    expect(sgf).toContain(`RE[${game.result}]`);
  }, 60_000);

  it('plays White (the agent opens), ignores illegal clicks, resigns on confirmation', async () => {
    await viewer.page.getByTestId('go-color').selectOption('white');
    await viewer.page.waitForFunction(`location.hash.includes('color=white')`);
    await viewer.page.getByTestId('go-new').click();
    await viewer.page.waitForFunction(`${STATE} && ${STATE}.humanColor === 'white'`, null, { timeout: 10_000 });
    let game = await yourTurn();
    expect(game.moves).toBe(1);
    expect(await viewer.page.getByTestId('go-status').textContent()).toContain('Your move (White)');
    // Starting this game closed the finished one.
    expect(openGames()).toBe(1);

    // A click on the agent's stone (not in `legal`) sends nothing: same state, no error.
    if (Array.isArray(game.frame.lastMove)) {
      const occupied = game.frame.lastMove[0] * 5 + game.frame.lastMove[1];
      expect(game.legal).not.toContain(occupied);
      await clickPoint(occupied);
      await viewer.page.waitForTimeout(300);
      expect((await state())!.moves).toBe(1);
      expect(await viewer.page.getByTestId('go-error').textContent()).toBe('');
    }
    // Nor does a click on the margin outside the grid.
    await canvas().click({ position: { x: 3, y: 3 } });
    await viewer.page.waitForTimeout(200);
    expect((await state())!.moves).toBe(1);

    // Resign asks first; keep playing cancels.
    await viewer.page.getByTestId('go-resign').click();
    await viewer.page.getByTestId('go-resign-cancel').click();
    expect((await state())!.over).toBe(false);
    await viewer.page.getByTestId('go-resign').click();
    await viewer.page.getByTestId('go-resign-confirm').click();
    await viewer.page.waitForFunction(`${STATE}.over`);
    game = (await state())!;
    expect(game).toMatchObject({ result: 'B+R', score: null });
    const text = (await viewer.page.getByTestId('go-result').textContent())!;
    expect(text).toContain('Black wins by resignation');
    expect(text).toContain('You resigned');
    expect(await viewer.page.getByTestId('go-sgf').isVisible()).toBe(true);
  }, 40_000);

  it('plays a trained AlphaZero agent chosen from the runs directory; says when a size has none', async () => {
    const { trainAlphaZero } = await import('../agents/go/alphazero.js');
    await trainAlphaZero({ hyperparameters: { size: 5, filters: [8], hidden: [16], simulations: 4, gamesPerIteration: 1, trainSteps: 1, batchSize: 8, bufferSize: 200, evalEvery: 0 }, seed: 1, iterations: 1, out: viewer.runsDir, runId: 'az5-e2e', backend: 'wasm' });
    await viewer.page.goto(`${viewer.server.openUrl}#/go?size=7&opponent=alphazero&color=white`);
    await viewer.page.reload();
    await viewer.page.getByTestId('go-agent').waitFor();
    await viewer.page.waitForFunction(`document.querySelector('[data-testid=go-agent]').textContent.includes('no trained 7×7 agent')`, null, { timeout: 10_000 });
    expect(await viewer.page.getByTestId('go-new').isDisabled()).toBe(true);
    // The board's own Start button is off too, and says why where the click would be.
    expect(await viewer.page.getByTestId('go-new-again').isDisabled()).toBe(true);
    expect(await viewer.page.locator('[data-testid=go-board] .stage-message').textContent()).toContain('Choose a trained agent first (none for 7×7? run lab go train --size 7)');
    await viewer.page.getByTestId('go-size').selectOption('5');
    await viewer.page.waitForFunction(`document.querySelector('[data-testid=go-agent]').value === 'az5-e2e'`, null, { timeout: 10_000 });
    expect(await viewer.page.getByTestId('go-agent').textContent()).toContain('az5-e2e (iteration 1)');
    await viewer.page.getByTestId('go-az-sims').selectOption('100');
    await viewer.page.waitForFunction(`location.hash.includes('sims=100')`);
    await viewer.page.waitForFunction(`!document.querySelector('[data-testid=go-new]').disabled`, null, { timeout: 10_000 });
    await viewer.page.getByTestId('go-new').click();
    const game = await yourTurn();
    expect(game).toMatchObject({ size: 5, humanColor: 'white', moves: 1, opponent: 'AlphaZero az5-e2e · 100 sims' });
    expect(await viewer.page.getByTestId('go-status').textContent()).toContain('AlphaZero az5-e2e');
  }, 60_000);

  it('after a dropped connection says the server ended the game and offers a new one', async () => {
    await viewer.page.getByTestId('go-new').click();
    let game = await yourTurn();
    expect(game.over).toBe(false);
    const droppedId = game.gameId;
    // Close the transport under the socket: the client reconnects, the server has closed its games.
    for (const s of viewer.server.io.of(LIVE_NAMESPACE).sockets.values()) s.conn.close();
    await viewer.page.getByTestId('go-new-again').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await viewer.page.getByTestId('go-status').textContent()).toContain('Game closed by the server');
    expect(await viewer.page.locator('[data-testid=go-board] .stage-message').textContent()).toContain('This game has ended');
    expect(await viewer.page.getByTestId('go-resign').isDisabled()).toBe(true);
    await viewer.page.getByTestId('go-new-again').click();
    await viewer.page.waitForFunction(`${STATE} && ${STATE}.gameId !== ${JSON.stringify(droppedId)}`, null, { timeout: 10_000 });
    game = await yourTurn();
    expect(game.over).toBe(false);
    expect(await viewer.page.getByTestId('go-new-again').isVisible()).toBe(false);
    expect(openGames()).toBe(1);

    // Leaving the page closes the game; coming back shows the setup again, with the board drawn.
    await viewer.page.getByTestId('nav-live').click();
    await expect.poll(openGames, { timeout: 5_000 }).toBe(0);
    expect(await viewer.page.evaluate(STATE)).toBeNull();
    await viewer.page.getByTestId('nav-go').click();
    await viewer.page.getByTestId('go-board').waitFor();
    expect(await viewer.page.evaluate('location.hash')).toContain('size=5');
    await viewer.page.waitForFunction(`(() => { try { return window.__lab.go.pointAt(0)[0] > 0; } catch { return false; } })()`);
    expect(await viewer.page.getByTestId('go-new-again').isVisible()).toBe(true);
    expect(viewer.consoleErrors).toEqual([]);
  }, 40_000);
});
