// Amazon EventBridge event-pattern matching for the local stack: decides which rules get which events.
//
// EventBridge's matcher is aws/event-ruler; this follows the behaviour of its array-consistent
// `rulesForJSONEvent`, which the EventBridge User Guide only partly documents:
// - A pattern is a set of field paths (nested objects joined with '.'), each with a list of
//   alternatives. `$or` splits a pattern into branches; the event matches if one branch does.
// - The event is flattened into leaves (strings, numbers, booleans, null) keyed by the same dotted
//   paths; arrays are transparent, so a path can have many leaves. Objects and empty arrays are not
//   leaves, which is what `exists` looks at.
// - Array consistency: all the leaves a branch matches must be able to come from the same element of
//   every array of objects they share.
// - String operators only ever match strings, numeric operators only numbers (compared as numbers),
//   and `anything-but` matches every leaf not excluded, including null, but needs the field present.
import ipaddr from 'ipaddr.js';

/** Thrown by compileEventPattern for a pattern that EventBridge's PutRule would reject. */
export class InvalidEventPatternError extends Error {
  override name = 'InvalidEventPatternError';
  /** Dotted path of the offending field ('' for the pattern itself). */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(path === '' ? `Invalid event pattern: ${reason}` : `Invalid event pattern at "${path}": ${reason}`);
    this.path = path;
  }
}

/** A validated event pattern, reusable for any number of events. */
export interface CompiledPattern {
  /** Whether the event (a parsed JSON object, normally the full PutEvents envelope) matches. */
  matches(event: unknown): boolean;
}

export function compileEventPattern(pattern: unknown): CompiledPattern {
  if (!isJsonObject(pattern)) fail('', 'the pattern must be a JSON object');
  const branches = compileObject(pattern, [], [new Map()], false);
  return {
    matches(event: unknown): boolean {
      const fields = flattenEvent(event);
      return branches.some((branch) => branchMatches(branch, fields));
    },
  };
}

export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern).matches(event);
}

// ---------------------------------------------------------------------------------------------
// Compiling patterns

type Leaf = string | number | boolean | null;
type ValueTest = (value: Leaf) => boolean;
type StringTest = (value: string) => boolean;

/** What one field path of a branch accepts: a leaf passing any test, or (exists:false) no leaf. */
interface FieldCondition {
  readonly tests: readonly ValueTest[];
  readonly matchesAbsence: boolean;
}

/** One AND-clause of the pattern: field path -> condition. */
type Branch = ReadonlyMap<string, FieldCondition>;

const OR = '$or';

// event-ruler rejects these as field names inside $or, where they would be ambiguous with operators.
const RESERVED_INSIDE_OR = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric',
  'cidr', '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case', 'date-after',
  'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range', 'ip-address-in-range',
  'ip-address-not-in-range',
]);

function fail(path: string, reason: string): never {
  throw new InvalidEventPatternError(path, reason);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Adds the object's fields to every branch so far; `$or` multiplies the branches. */
function compileObject(
  object: Record<string, unknown>,
  path: readonly string[],
  branches: readonly Branch[],
  insideOr: boolean,
): Branch[] {
  const entries = Object.entries(object);
  if (entries.length === 0) fail(path.join('.'), 'empty objects are not allowed');
  let result = [...branches];
  for (const [key, value] of entries) {
    if (key === OR) {
      result = compileOr(value, path, result);
      continue;
    }
    const fieldPath = [...path, key];
    const where = fieldPath.join('.');
    if (insideOr && RESERVED_INSIDE_OR.has(key)) fail(where, `"${key}" is a reserved word and cannot be a field name inside "$or"`);
    if (Array.isArray(value)) {
      const condition = compileCondition(value, where);
      // A path given twice (e.g. "a.b" and {"a": {"b": ...}}) keeps the later one, as event-ruler does.
      result = result.map((branch) => new Map(branch).set(where, condition));
    } else if (isJsonObject(value)) {
      result = compileObject(value, fieldPath, result, insideOr);
    } else {
      fail(where, 'must be an object or an array');
    }
  }
  return result;
}

function compileOr(alternatives: unknown, path: readonly string[], branches: readonly Branch[]): Branch[] {
  const where = [...path, OR].join('.');
  if (!Array.isArray(alternatives) || alternatives.length < 2) fail(where, '"$or" must be an array of at least two objects');
  return alternatives.flatMap((alternative) => {
    if (!isJsonObject(alternative)) fail(where, 'every element of "$or" must be an object');
    return compileObject(alternative, path, branches, true);
  });
}

function compileCondition(values: readonly unknown[], where: string): FieldCondition {
  if (values.length === 0) fail(where, 'empty arrays are not allowed');
  const compiled = values.map((value) => compileValue(value, where));
  return {
    tests: compiled.filter((entry): entry is ValueTest => entry !== 'absent'),
    matchesAbsence: compiled.includes('absent'),
  };
}

/** One alternative of a field's list: a literal, or an operator object. */
function compileValue(value: unknown, where: string): ValueTest | 'absent' {
  if (typeof value === 'string') return exactStringTest(value);
  if (typeof value === 'number') return equalsNumber(requireNumber(value, where));
  // Literals match only the same JSON literal: true is not "true", null is not "null".
  if (typeof value === 'boolean' || value === null) return (leaf) => leaf === value;
  if (isJsonObject(value)) return compileOperator(value, where);
  fail(where, 'match values must be strings, numbers, booleans, null or operator objects');
}

function compileOperator(expression: Record<string, unknown>, where: string): ValueTest | 'absent' {
  const [operator, operand] = singleEntry(expression, where);
  switch (operator) {
    case 'prefix':
      return onStrings(prefixOrSuffixTest('prefix', operand, where));
    case 'suffix':
      return onStrings(prefixOrSuffixTest('suffix', operand, where));
    case 'equals-ignore-case':
      return onStrings(ignoreCaseTest(requireString(operand, operator, where), 'whole'));
    case 'wildcard':
      return onStrings(wildcardTest(requireString(operand, operator, where), where));
    case 'anything-but':
      return compileAnythingBut(operand, where);
    case 'numeric':
      return compileNumeric(operand, where);
    case 'cidr':
      return cidrTest(requireString(operand, operator, where), where);
    case 'exists':
      if (typeof operand !== 'boolean') fail(where, '"exists" must be true or false');
      return operand ? () => true : 'absent';
    default:
      return fail(where, `unknown operator "${operator}"`);
  }
}

function singleEntry(expression: Record<string, unknown>, where: string): [string, unknown] {
  const [entry, ...others] = Object.entries(expression);
  if (entry === undefined || others.length > 0) fail(where, 'an operator object must have exactly one key');
  return entry;
}

function requireString(operand: unknown, operator: string, where: string): string {
  if (typeof operand !== 'string') fail(where, `"${operator}" needs a string`);
  return operand;
}

function requireNumber(operand: unknown, where: string): number {
  if (typeof operand !== 'number' || !Number.isFinite(operand)) fail(where, `expected a finite number, got ${JSON.stringify(operand)}`);
  return operand;
}

function onStrings(test: StringTest): ValueTest {
  return (leaf) => typeof leaf === 'string' && test(leaf);
}

/** {"prefix": "abc"} or {"prefix": {"equals-ignore-case": "aBc"}}; likewise suffix. */
function prefixOrSuffixTest(operator: 'prefix' | 'suffix', operand: unknown, where: string): StringTest {
  if (isJsonObject(operand)) {
    const [inner, text] = singleEntry(operand, where);
    if (inner !== 'equals-ignore-case') fail(where, `"${operator}" supports only "equals-ignore-case" inside, not "${inner}"`);
    return ignoreCaseTest(requireString(text, inner, where), operator);
  }
  const text = requireString(operand, operator, where);
  return operator === 'prefix' ? (value) => value.startsWith(text) : (value) => value.endsWith(text);
}

/** Exact string; a string that is an IP address literal matches the same address in any notation. */
function exactStringTest(text: string): ValueTest {
  const address = parseIpAddress(text);
  if (address === undefined) return (leaf) => leaf === text;
  const bits = address.kind() === 'ipv4' ? 32 : 128;
  return onStrings((value) => inNetwork(value, address, bits));
}

function equalsNumber(expected: number): ValueTest {
  return (leaf) => leaf === expected;
}

// --- anything-but --------------------------------------------------------------------------

// Each form excludes only values of its own type: string forms never exclude numbers, booleans or
// null, and the number form never excludes strings.
function compileAnythingBut(operand: unknown, where: string): ValueTest {
  if (isJsonObject(operand)) return anythingButStrings(operand, where);
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (excluded.length === 0) fail(where, '"anything-but" needs at least one value');
  if (excluded.every((value) => typeof value === 'string')) {
    const strings = new Set(excluded);
    return (leaf) => !(typeof leaf === 'string' && strings.has(leaf));
  }
  if (excluded.every((value) => typeof value === 'number')) {
    const numbers = new Set(excluded.map((value) => requireNumber(value, where)));
    return (leaf) => !(typeof leaf === 'number' && numbers.has(leaf));
  }
  return fail(where, '"anything-but" takes a string, a number, or a list of only strings or only numbers');
}

// The string forms {"anything-but": {form: text or [texts]}}, each building the test of one text.
const ANYTHING_BUT_FORMS = new Map<string, (text: string, where: string) => StringTest>([
  ['prefix', (text, where) => {
    rejectEmpty(text, 'prefix', where);
    return (value) => value.startsWith(text);
  }],
  ['suffix', (text, where) => {
    rejectEmpty(text, 'suffix', where);
    return (value) => value.endsWith(text);
  }],
  ['equals-ignore-case', (text) => ignoreCaseTest(text, 'whole')],
  ['wildcard', (text, where) => wildcardTest(text, where)],
]);

function anythingButStrings(expression: Record<string, unknown>, where: string): ValueTest {
  const [form, operand] = singleEntry(expression, where);
  const build = ANYTHING_BUT_FORMS.get(form);
  if (build === undefined) fail(where, `"anything-but" does not support "${form}"`);
  const texts = Array.isArray(operand) ? operand : [operand];
  if (texts.length === 0) fail(where, `"anything-but" "${form}" needs at least one string`);
  const tests = texts.map((text) => build(requireString(text, `anything-but ${form}`, where), where));
  return (leaf) => typeof leaf !== 'string' || !tests.some((test) => test(leaf));
}

// An empty excluded prefix or suffix would exclude every string; event-ruler rejects it.
function rejectEmpty(text: string, form: string, where: string): void {
  if (text === '') fail(where, `"anything-but" "${form}" cannot be empty`);
}

// --- numeric -------------------------------------------------------------------------------

interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

// Accepted shapes: ["=", n], ["<" | "<=", n], [">" | ">=", n], [">" | ">=", n, "<" | "<=", m].
function compileNumeric(operand: unknown, where: string): ValueTest {
  if (!Array.isArray(operand)) fail(where, '"numeric" must be an array');
  const [operator, value, ...rest] = operand;
  if (operator === '=') {
    const expected = requireNumber(value, where);
    noMoreTerms(rest, where);
    return equalsNumber(expected);
  }
  if (operator === '<' || operator === '<=') {
    const upper = { value: requireNumber(value, where), inclusive: operator === '<=' };
    noMoreTerms(rest, where);
    return inRange(undefined, upper);
  }
  if (operator === '>' || operator === '>=') {
    const lower = { value: requireNumber(value, where), inclusive: operator === '>=' };
    return inRange(lower, upperOfRange(rest, lower, where));
  }
  return fail(where, `unknown numeric operator ${JSON.stringify(operator)}`);
}

function upperOfRange(terms: readonly unknown[], lower: Bound, where: string): Bound | undefined {
  if (terms.length === 0) return undefined;
  const [operator, value, ...rest] = terms;
  if (operator !== '<' && operator !== '<=') fail(where, `a numeric range continues with "<" or "<=", not ${JSON.stringify(operator)}`);
  const upper = { value: requireNumber(value, where), inclusive: operator === '<=' };
  noMoreTerms(rest, where);
  if (!(lower.value < upper.value)) fail(where, 'the lower bound of a numeric range must be less than the upper bound');
  return upper;
}

function noMoreTerms(rest: readonly unknown[], where: string): void {
  if (rest.length > 0) fail(where, 'too many terms in numeric expression');
}

function inRange(lower: Bound | undefined, upper: Bound | undefined): ValueTest {
  return (leaf) =>
    typeof leaf === 'number' &&
    (lower === undefined || (lower.inclusive ? leaf >= lower.value : leaf > lower.value)) &&
    (upper === undefined || (upper.inclusive ? leaf <= upper.value : leaf < upper.value));
}

// --- cidr and IP addresses -----------------------------------------------------------------

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

// event-ruler only treats these shapes as IP literals: dotted decimal, or hex groups and colons
// (no embedded IPv4, no zone).
const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function parseIpAddress(text: string): IpAddress | undefined {
  if (IPV4_SHAPE.test(text)) {
    // Parts are decimal even with leading zeros ("010" is 10), as Java's parser reads them.
    const bytes = text.split('.').map(Number);
    return bytes.every((byte) => byte <= 255) ? ipaddr.fromByteArray(bytes) : undefined;
  }
  if (!IPV6_SHAPE.test(text) || !ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  // Java's address parser (and so event-ruler) turns IPv4-mapped IPv6 addresses into IPv4 ones.
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

function inNetwork(text: string, network: IpAddress, bits: number): boolean {
  const address = parseIpAddress(text);
  return address !== undefined && address.kind() === network.kind() && address.match(network, bits);
}

function cidrTest(cidr: string, where: string): ValueTest {
  const [addressText = '', bitsText, ...extra] = cidr.split('/');
  if (bitsText === undefined || extra.length > 0) fail(where, `malformed CIDR "${cidr}": one "/" required`);
  const network = parseIpAddress(addressText);
  if (network === undefined) fail(where, `malformed CIDR "${cidr}": invalid IP address`);
  // event-ruler caps the prefix length one below the address size (/32 and /128 are rejected).
  const maxBits = network.kind() === 'ipv4' ? 31 : 127;
  if (!/^\d+$/.test(bitsText) || Number(bitsText) > maxBits) fail(where, `malformed CIDR "${cidr}": prefix length must be 0 to ${maxBits}`);
  const bits = Number(bitsText);
  return onStrings((value) => inNetwork(value, network, bits));
}

// --- equals-ignore-case --------------------------------------------------------------------

type Anchor = 'whole' | 'prefix' | 'suffix';

// Each pattern character matches exactly its full lower-case or full upper-case mapping, which may
// be several code points (ΰ upper-cases to Ϋ́), so the KELVIN SIGN matches "k". No normalisation: a
// precomposed character does not match its decomposed form unless a case mapping produces it.
function ignoreCaseTest(text: string, anchor: Anchor): StringTest {
  const body = Array.from(text, caseAlternatives).join('');
  const source = anchor === 'whole' ? `^${body}$` : anchor === 'prefix' ? `^${body}` : `${body}$`;
  const regex = new RegExp(source, 'u');
  return (value) => regex.test(value);
}

function caseAlternatives(character: string): string {
  const forms = [...new Set([character.toLowerCase(), character.toUpperCase()])].map(escapeRegExp);
  return forms.length === 1 ? forms.join('') : `(?:${forms.join('|')})`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

// --- wildcard ------------------------------------------------------------------------------

/** Anchored, case-sensitive glob: `*` is any run of characters; `\*` and `\\` are literals. */
function wildcardTest(pattern: string, where: string): StringTest {
  const [first = '', ...rest] = splitWildcard(pattern, where);
  const last = rest.pop();
  if (last === undefined) return (value) => value === first;
  return (value) => matchesGlob(value, first, rest, last);
}

/** The literal pieces between the wildcards, with escapes resolved. */
function splitWildcard(pattern: string, where: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*') {
      if (pattern[i + 1] === '*') fail(where, `consecutive wildcard characters at position ${i}`);
      pieces.push(piece);
      piece = '';
    } else if (char === '\\') {
      const escaped = pattern[i + 1];
      if (escaped !== '*' && escaped !== '\\') fail(where, `invalid escape character at position ${i}`);
      piece += escaped;
      i++;
    } else {
      piece += char;
    }
  }
  pieces.push(piece);
  return pieces;
}

// Taking the leftmost occurrence of each middle piece is optimal, so no backtracking is needed.
function matchesGlob(value: string, first: string, middle: readonly string[], last: string): boolean {
  const end = value.length - last.length;
  if (end < first.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let position = first.length;
  for (const piece of middle) {
    const found = value.indexOf(piece, position);
    if (found === -1 || found + piece.length > end) return false;
    position = found + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Matching events

/** Which element of which array (by id) a leaf sits in, for arrays of objects or of arrays. */
type Membership = ReadonlyMap<number, number>;

interface EventLeaf {
  readonly value: Leaf;
  readonly membership: Membership;
}

type FlatEvent = ReadonlyMap<string, readonly EventLeaf[]>;

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function flattenEvent(event: unknown): FlatEvent {
  if (!isJsonObject(event)) throw new TypeError('an event must be a JSON object');
  const leaves = new Map<string, EventLeaf[]>();
  let arrayCount = 0;
  const visit = (node: unknown, path: string, membership: Membership): void => {
    if (Array.isArray(node)) {
      const arrayId = arrayCount++;
      node.forEach((element, index) => {
        // Leaves directly in an array are alternatives of one field and never conflict with each
        // other, so only elements that are objects or arrays pin an element index.
        const pinned = isLeaf(element) ? membership : new Map(membership).set(arrayId, index);
        visit(element, path, pinned);
      });
    } else if (isJsonObject(node)) {
      for (const [key, child] of Object.entries(node)) visit(child, path === '' ? key : `${path}.${key}`, membership);
    } else if (isLeaf(node)) {
      const onPath = leaves.get(path) ?? [];
      onPath.push({ value: node, membership });
      leaves.set(path, onPath);
    }
    // Anything else (undefined, functions, ...) has no JSON form, so it is absent.
  };
  visit(event, '', new Map());
  return leaves;
}

interface Slot {
  readonly leavesOnPath: readonly EventLeaf[];
  readonly candidates: readonly EventLeaf[];
  readonly matchesAbsence: boolean;
}

function branchMatches(branch: Branch, event: FlatEvent): boolean {
  const slots: Slot[] = [];
  for (const [path, condition] of branch) {
    const leavesOnPath = event.get(path) ?? [];
    const matching = leavesOnPath.filter((leaf) => condition.tests.some((test) => test(leaf.value)));
    if (matching.length === 0 && !condition.matchesAbsence) return false;
    slots.push({ leavesOnPath, candidates: distinctMemberships(matching), matchesAbsence: condition.matchesAbsence });
  }
  // Most constrained first, to prune the search early.
  slots.sort((a, b) => a.candidates.length - b.candidates.length);
  return chooseConsistently(slots, new Map(), []);
}

// Leaves with the same membership are interchangeable for the consistency search.
function distinctMemberships(leaves: readonly EventLeaf[]): EventLeaf[] {
  const byKey = new Map<string, EventLeaf>();
  for (const leaf of leaves) {
    const key = [...leaf.membership].map(([array, index]) => `${array}:${index}`).join(',');
    if (!byKey.has(key)) byKey.set(key, leaf);
  }
  return [...byKey.values()];
}

/**
 * Depth-first search for one matching leaf per slot, all from consistent array elements. Slots
 * satisfied by absence are checked last, against the memberships of everything chosen: a leaf that
 * sits in another element of a matched array of objects does not count as present. (event-ruler
 * checks absence part-way, so its answer there can depend on key order; this does not.)
 */
function chooseConsistently(slots: readonly Slot[], membership: Membership, absent: readonly Slot[]): boolean {
  const [slot, ...rest] = slots;
  if (slot === undefined) {
    return absent.every((s) => !s.leavesOnPath.some((leaf) => consistent(membership, leaf.membership)));
  }
  for (const candidate of slot.candidates) {
    const merged = merge(membership, candidate.membership);
    if (merged !== undefined && chooseConsistently(rest, merged, absent)) return true;
  }
  return slot.matchesAbsence && chooseConsistently(rest, membership, [...absent, slot]);
}

/** Whether two memberships never put one array at two different elements. */
function consistent(a: Membership, b: Membership): boolean {
  for (const [array, index] of b) {
    const chosen = a.get(array);
    if (chosen !== undefined && chosen !== index) return false;
  }
  return true;
}

/** The union of two memberships, or undefined if they are not consistent. */
function merge(a: Membership, b: Membership): Membership | undefined {
  if (!consistent(a, b)) return undefined;
  return b.size === 0 ? a : new Map([...a, ...b]);
}
