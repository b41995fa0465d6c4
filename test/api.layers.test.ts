/**
 * The layers point one way (docs/architecture.md, layers):
 *
 *   sys → task → future → io, time, sync → runtime → net, codec, fs → worker, compat → index
 *
 * `sys` wraps the native addon; `task` is the execution context (budget,
 * deferred wakes, runtime stack, counters) and imports nothing of edgeio;
 * `future` is the poll vocabulary and `await`; `io` and `time` are the
 * drivers and the resources' leaf futures; `runtime` is the executor and
 * the public Runtime; `net` the sockets; `index.ts` the public API. A file
 * may import its own directory and the layers below it, never above or
 * sideways (io and time do not import each other; a type-only import or a
 * `declare module` augmentation counts too), and no files import each other
 * in a cycle of value imports (a type-only back edge inside one directory,
 * as net/tcp's stream and connect, is erased at compile time). Parsed from the sources, so a new import that breaks
 * the order fails here with the file and line.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..', 'src');

/** Rank of each top-level directory of src/ (index.ts is the top). */
const LAYERS: Record<string, number> = {
  sys: 1,
  task: 2,
  future: 3,
  io: 4,
  time: 4,
  sync: 4,
  runtime: 5,
  net: 6,
  codec: 6,
  fs: 6,
  worker: 7,
  compat: 7,
  'index.ts': 8,
};

interface Edge {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null; // node: builtins and packages
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c)) return c;
  throw new Error(`${path.relative(SRC, from)}: cannot resolve '${spec}'`);
}

function edgesOf(file: string): Edge[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: Edge[] = [];
  // import/export ... from '...', import '...', declare module '...' (an
  // augmentation is a dependency too), dynamic import/require.
  const re =
    /^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|^\s*declare\s+module\s+'([^']+)'|\b(?:require|import)\(\s*'([^']+)'\s*\)/gm;
  for (let m; (m = re.exec(text)) !== null; ) {
    const spec = m[3] ?? m[4] ?? m[5] ?? m[6];
    const to = resolveImport(file, spec);
    if (to === null) continue;
    const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    out.push({ from: file, to, line, typeOnly: m[2] !== undefined || m[5] !== undefined });
  }
  return out;
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel[0];
}

const files = sources(SRC);
const edges = files.flatMap(edgesOf);
const rel = (f: string) => path.relative(path.resolve(SRC, '..'), f);

describe('source layers', () => {
  test('every top-level directory of src/ has a layer', () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(l in LAYERS));
    expect(unknown).toEqual([]);
  });

  test('imports point down the layers: own directory or a lower layer, never up or sideways', () => {
    const bad = edges
      .filter((e) => {
        const a = layerOf(e.from);
        const b = layerOf(e.to);
        return a !== b && LAYERS[b] >= LAYERS[a];
      })
      .map((e) => `${rel(e.from)}:${e.line} imports ${rel(e.to)} (${layerOf(e.from)} may not import ${layerOf(e.to)})`);
    expect(bad).toEqual([]);
  });

  test('the execution context (src/task) imports nothing of edgeio but itself', () => {
    const bad = edges.filter((e) => layerOf(e.from) === 'task' && layerOf(e.to) !== 'task').map((e) => `${rel(e.from)}:${e.line}`);
    expect(bad).toEqual([]);
  });

  test('no import cycle between files', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) {
      if (e.typeOnly) continue; // erased at compile time: no load-order cycle
      graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    }
    const cycles: string[] = [];
    const state = new Map<string, number>(); // 1 visiting, 2 done
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' → '));
        else if (state.get(t) === undefined) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of files) if (state.get(f) === undefined) visit(f);
    expect(cycles).toEqual([]);
  });

  test('the parser sees the imports it checks (a broken regex would pass everything)', () => {
    const fromAwait = edges.filter((e) => rel(e.from) === path.join('src', 'future', 'await.ts')).map((e) => rel(e.to));
    expect(fromAwait).toEqual(
      expect.arrayContaining([path.join('src', 'task', 'context.ts'), path.join('src', 'task', 'coop.ts'), path.join('src', 'future', 'poll.ts')]),
    );
    const augment = edges.find((e) => rel(e.from) === path.join('src', 'io', 'driver.ts') && rel(e.to) === path.join('src', 'task', 'context.ts'));
    expect(augment?.typeOnly).toBe(true);
    expect(edges.length).toBeGreaterThan(100);
  });
});
