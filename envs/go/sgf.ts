/**
 * SGF (FF[4], GM[1]) export and import of Go-lite games.
 *
 *   const text = toSgf(env.board);            // (;FF[4]GM[1]SZ[7]KM[9]RU[Chinese]RE[B+3];B[dd];W[]…)
 *   const { board, komi, result } = fromSgf(text);
 *
 * Coordinates: SGF writes a point as column letter then row letter, 'a' = first column / top row, so
 * action `row·N + col` ↔ `${'a'+col}${'a'+row}`. A pass is written `[]`; on import `[tt]` is also read as a
 * pass (FF[3] convention, boards up to 19x19).
 * RE: `B+3.5` / `W+2` (margin from the Tromp-Taylor count), `0` for a draw, written only once the game is
 * over. RU is `Chinese` (area scoring; our superko is positional). Import reads SZ (default 19), KM
 * (default: the Go-lite default for the size), RE (kept as text) and the moves of the main line (the first
 * variation at each branch), replaying every move through the rules: an illegal move throws an error naming
 * its move number. Setup properties (AB, AW, AE) and moves by the wrong colour are rejected.
 */
import { GoBoard, GoRuleError, defaultKomi, toGtp } from './board.js';

export class SgfError extends Error {
  override name = 'SgfError';
}

export interface SgfGame {
  board: GoBoard;
  size: number;
  komi: number;
  /** The RE property as written, or null. */
  result: string | null;
}

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/]/g, '\\]');
}

/** Result string for a finished game: 'B+3.5', 'W+2', '0'. */
export function sgfResult(board: GoBoard): string {
  const s = board.score();
  if (s.winner === 'draw') return '0';
  return `${s.winner === 'black' ? 'B' : 'W'}+${Math.abs(s.margin)}`;
}

/** The game on `board` (its whole move list) as an SGF record. */
export function toSgf(board: GoBoard, options: { application?: string; comment?: string } = {}): string {
  const N = board.size;
  let head = `(;FF[4]GM[1]CA[UTF-8]AP[${escapeText(options.application ?? 'rl-gan-lab:GoLite')}]SZ[${N}]KM[${board.komi}]RU[Chinese]`;
  if (board.isOver) head += `RE[${sgfResult(board)}]`;
  if (options.comment) head += `C[${escapeText(options.comment)}]`;
  const parts = [head];
  board.moves.forEach((m, i) => {
    const who = i % 2 === 0 ? 'B' : 'W';
    if (m === board.passMove) parts.push(`;${who}[]`);
    else parts.push(`;${who}[${String.fromCharCode(97 + (m % N), 97 + Math.floor(m / N))}]`);
  });
  return `${parts.join('')})\n`;
}

interface Node {
  props: Map<string, string[]>;
}

/** Parses the main line of the first game tree into nodes. */
function parseMainLine(text: string): Node[] {
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && /\s/.test(text[i]!)) i++;
  };
  skipWs();
  if (text[i] !== '(') throw new SgfError(`fromSgf: expected '(' at the start of the game tree, got ${JSON.stringify(text.slice(i, i + 10))}`);
  i++;
  const nodes: Node[] = [];
  let depth = 1;
  let mainDepth = 1; // we follow the first variation at every branch
  let onMain = true;
  while (i < n && depth > 0) {
    skipWs();
    const ch = text[i];
    if (ch === '(') {
      depth++;
      // The first '(' directly following nodes at the main depth continues the main line; later siblings don't.
      if (onMain && depth === mainDepth + 1) mainDepth = depth;
      else onMain = false;
      i++;
    } else if (ch === ')') {
      if (depth === mainDepth && onMain) onMain = false;
      depth--;
      i++;
    } else if (ch === ';') {
      i++;
      const node: Node = { props: new Map() };
      for (;;) {
        skipWs();
        const m = /^[A-Za-z]+/.exec(text.slice(i, i + 32));
        if (!m) break;
        const ident = m[0].replace(/[a-z]/g, '');
        i += m[0].length;
        const values: string[] = [];
        skipWs();
        while (text[i] === '[') {
          i++;
          let v = '';
          while (i < n && text[i] !== ']') {
            if (text[i] === '\\') i++;
            v += text[i] ?? '';
            i++;
          }
          if (i >= n) throw new SgfError(`fromSgf: unterminated value of property ${ident}`);
          i++;
          values.push(v);
          skipWs();
        }
        if (!values.length) throw new SgfError(`fromSgf: property ${ident} has no value`);
        node.props.set(ident, values);
      }
      if (onMain && depth === mainDepth) nodes.push(node);
    } else if (ch === undefined) break;
    else throw new SgfError(`fromSgf: unexpected character ${JSON.stringify(ch)} at offset ${i}`);
  }
  if (depth > 0) throw new SgfError('fromSgf: unbalanced parentheses (the game tree is not closed)');
  return nodes;
}

/** Reads an SGF record and replays its main line through the Go-lite rules. */
export function fromSgf(text: string): SgfGame {
  if (typeof text !== 'string') throw new SgfError('fromSgf: expected SGF text');
  const nodes = parseMainLine(text);
  if (!nodes.length) throw new SgfError('fromSgf: no nodes in the game tree');
  const root = nodes[0]!.props;
  const gm = root.get('GM')?.[0];
  if (gm !== undefined && gm.trim() !== '1') throw new SgfError(`fromSgf: GM[${gm}] is not Go (GM[1])`);
  const szText = root.get('SZ')?.[0] ?? '19';
  const size = Number(szText.trim());
  if (!Number.isInteger(size) || size < 5 || size > 19) throw new SgfError(`fromSgf: SZ[${szText}] must be a square board size from 5 to 19`);
  const kmText = root.get('KM')?.[0];
  const komi = kmText === undefined ? defaultKomi(size) : Number(kmText.trim());
  if (!Number.isFinite(komi)) throw new SgfError(`fromSgf: KM[${kmText}] is not a number`);
  const result = root.get('RE')?.[0] ?? null;
  const board = new GoBoard(size, komi);
  let moveNo = 0;
  for (const node of nodes) {
    for (const setup of ['AB', 'AW', 'AE']) {
      if (node.props.has(setup)) throw new SgfError(`fromSgf: setup property ${setup} is not supported (games must start from the empty board)`);
    }
    for (const colour of ['B', 'W'] as const) {
      const values = node.props.get(colour);
      if (!values) continue;
      moveNo++;
      const v = values[0]!.trim();
      const expected = board.toPlay === 1 ? 'B' : 'W';
      if (colour !== expected) throw new SgfError(`fromSgf: move ${moveNo} is by ${colour} but ${expected} is to play`);
      let action: number;
      if (v === '' || (v === 'tt' && size <= 19)) action = board.passMove;
      else {
        const col = v.charCodeAt(0) - 97;
        const row = v.charCodeAt(1) - 97;
        if (v.length !== 2 || col < 0 || col >= size || row < 0 || row >= size) {
          throw new SgfError(`fromSgf: move ${moveNo} (${colour}[${v}]) is not a point of a ${size}x${size} board`);
        }
        action = row * size + col;
      }
      try {
        board.play(action);
      } catch (e) {
        if (e instanceof GoRuleError) {
          throw new SgfError(`fromSgf: move ${moveNo} (${colour}[${v}] = ${toGtp(action, size)}) is illegal: ${e.message}`);
        }
        throw e;
      }
    }
  }
  return { board, size, komi, result };
}
