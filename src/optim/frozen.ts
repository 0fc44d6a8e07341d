// Frozen parameters (`p.requiresGrad = false`): PyTorch skips a parameter whose grad is None,
// and its state (its own `step` included) stays as it was. A group here keeps one step count
// while its parameters step together; once freezing makes them differ, each parameter points at
// a book (step count, unwritten buffers, host-side scalars), shared by the parameters that
// agree, and each book's parameters step together as a cohort with their own scalars. A group
// without frozen parameters and without books never comes here: the step's fast path is
// unchanged.
import type { Parameter } from '../store.js';
import { runsOf, type GroupState, type ParamBook, type Run } from './state.js';

/** A copy of each book, parameters that shared one sharing its copy. */
export function copyBooks(books: readonly ParamBook[]): ParamBook[] {
  const copies = new Map<ParamBook, ParamBook>();
  return books.map((b) => {
    let c = copies.get(b);
    if (c === undefined) copies.set(b, c = { step: b.step, fresh: new Set(b.fresh), scalars: { ...b.scalars } });
    return c;
  });
}

/** Whether a group must step parameter by parameter: it has books, or a frozen parameter. */
export function needsCohorts(params: readonly Parameter[], state: GroupState): boolean {
  return state.books !== undefined || (params.length > 0 && params[0].store.frozenCount > 0 && params.some((p) => !p.requiresGrad));
}

function bookKey(book: ParamBook): string {
  const scalars = Object.keys(book.scalars).sort().map((k) => `${k}=${book.scalars[k]}`);
  return `${book.step}|${[...book.fresh].sort().join(',')}|${scalars.join(',')}`;
}

/**
 * Sets a group's books (taking `books` over; `distinct` lists the different book objects in
 * it, when known): books that agree become one, and when one is left the group's own `step`,
 * `fresh` and `scalars` take it (the fast path returns).
 */
export function settleBooks(state: GroupState, books: ParamBook[], distinct: Iterable<ParamBook> = new Set(books)): void {
  const canonical = new Map<string, ParamBook>();
  const merged = new Map<ParamBook, ParamBook>();
  for (const b of distinct) {
    const key = bookKey(b);
    const c = canonical.get(key);
    if (c === undefined) canonical.set(key, b);
    else merged.set(b, c);
  }
  if (canonical.size > 1) {
    state.books = merged.size === 0 ? books : books.map((b) => merged.get(b) ?? b);
    return;
  }
  state.books = undefined;
  const b = canonical.values().next().value;
  if (b === undefined) return;
  state.step = b.step;
  state.fresh.clear();
  for (const name of b.fresh) state.fresh.add(name);
  for (const k of Object.keys(state.scalars)) delete state.scalars[k];
  Object.assign(state.scalars, b.scalars);
}

const activeRunsOf = new WeakMap<GroupState, { version: number; runs: readonly Run[] }>();

/** The runs of a group's parameters that are not frozen (the group's own runs when none is; kept while nothing is frozen or unfrozen). */
export function activeRuns(params: readonly Parameter[], state: GroupState): readonly Run[] {
  if (params.length === 0 || params[0].store.frozenCount === 0) return state.runs;
  const version = params[0].store.frozenVersion;
  const known = activeRunsOf.get(state);
  if (known !== undefined && known.version === version) return known.runs;
  const active = params.flatMap((p, i) => (p.requiresGrad ? [i] : []));
  const runs = active.length === params.length ? state.runs : runsOf(active.map((i) => params[i]), active.map((i) => state.paramOffsets[i]), state.dtype);
  activeRunsOf.set(state, { version, runs });
  return runs;
}

/** The parameters of one book that step: one `update` with their own step count and scalars. */
interface Cohort {
  readonly book: ParamBook;
  readonly indices: readonly number[];
  readonly params: readonly Parameter[];
  readonly paramOffsets: readonly number[];
  readonly runs: readonly Run[];
  /** Frozen parameters hold the book too, so the cohort moves to a book of its own when it steps. */
  readonly shared: boolean;
}

/** A group's cohorts, valid while the store's frozen parameters and the group's books array stay as they were. */
interface Partition {
  readonly version: number;
  readonly books: readonly ParamBook[];
  readonly cohorts: readonly Cohort[];
  /** Books only frozen parameters hold. */
  readonly idle: readonly ParamBook[];
}

const partitions = new WeakMap<GroupState, Partition>();

function partition(params: readonly Parameter[], state: GroupState, books: readonly ParamBook[]): Partition {
  const version = params[0].store.frozenVersion;
  const known = partitions.get(state);
  if (known !== undefined && known.version === version && known.books === books) return known;
  const active = new Map<ParamBook, number[]>();
  const frozen = new Set<ParamBook>();
  params.forEach((p, i) => {
    if (!p.requiresGrad) {
      frozen.add(books[i]);
      return;
    }
    const indices = active.get(books[i]);
    if (indices) indices.push(i);
    else active.set(books[i], [i]);
  });
  const cohorts = [...active].map(([book, indices]): Cohort => {
    const list = indices.map((i) => params[i]);
    const paramOffsets = indices.map((i) => state.paramOffsets[i]);
    return { book, indices, params: list, paramOffsets, runs: runsOf(list, paramOffsets, state.dtype), shared: frozen.has(book) };
  });
  const result = { version, books, cohorts, idle: [...frozen].filter((b) => !active.has(b)) };
  partitions.set(state, result);
  return result;
}

/**
 * One step of a group whose parameters step apart: the frozen ones not at all, the others in
 * cohorts (the parameters of one book), each through `update` with a group of its parameters
 * and a state whose step, runs, offsets, unwritten buffers and scalars are its own (the buffers
 * are the group's). The books change only once every cohort has stepped. The cohorts are kept
 * from step to step while nothing is frozen or unfrozen, so a step costs one pass over the
 * cohorts, not over the parameters.
 */
export function stepCohorts<G extends { readonly params: readonly Parameter[] }>(
  group: G, state: GroupState, update: (group: G, state: GroupState) => void,
): void {
  if (state.books === undefined) {
    if (!group.params.some((p) => p.requiresGrad)) return;
    const shared = copyBooks([state])[0];
    state.books = group.params.map(() => shared);
  }
  const books = state.books;
  const { cohorts, idle } = partition(group.params, state, books);
  if (cohorts.length === 0) return;  // all frozen: nothing changes
  const after = cohorts.map((c) => {
    const sub: GroupState = {
      step: c.book.step + 1, dtype: state.dtype, runs: c.runs, paramOffsets: c.paramOffsets,
      blockOffsets: c.indices.map((i) => state.blockOffsets[i]), elements: state.elements, blocks: state.blocks,
      buffers: state.buffers, fresh: new Set(c.book.fresh), scalars: { ...c.book.scalars },
    };
    update({ ...group, params: c.params }, sub);
    return sub;
  });
  let moved = false;
  cohorts.forEach((c, k) => {
    const { step, scalars } = after[k];
    if (c.shared) {
      // Frozen parameters keep the book as it was: the cohort takes a new one.
      const book: ParamBook = { step, fresh: new Set(), scalars };
      for (const i of c.indices) books[i] = book;
      moved = true;
      return;
    }
    c.book.step = step;
    c.book.fresh.clear();
    for (const key of Object.keys(c.book.scalars)) delete c.book.scalars[key];
    Object.assign(c.book.scalars, scalars);
  });
  if (moved) partitions.delete(state);
  settleBooks(state, books, moved ? new Set(books) : [...idle, ...cohorts.map((c) => c.book)]);
}
